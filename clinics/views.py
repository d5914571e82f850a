from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from clinic_portal.page_cache import cached_page
from clinic_portal.panels import page_panels
from clinics.comparison import compare_clinics
from clinics.forms import ClinicComparisonForm, ClinicFilterForm
from clinics.models import Accreditation, Clinic, ClinicTreatment, Doctor
from clinics.pagination import CappedPaginator
from clinics.structured_data import clinic_jsonld, doctor_jsonld
from conditions.models import Condition

CLINICS_PER_PAGE = 20
# The directory counts up to this many clinics; beyond, it says "more than …" (counting them all would
# read every clinic on each view).
CLINICS_COUNTED = 1000


@require_safe
@cached_page(query=[*ClinicFilterForm.base_fields.keys() - {"q"}, "page"])  # a search is rendered afresh
def clinic_list(request: HttpRequest) -> HttpResponse:
    form = ClinicFilterForm(request.GET or None)
    published = Clinic.objects.published().with_card_details().prefetch_related("specialties")
    clinics = form.filter(published) if form.is_valid() else published.order_by_name()
    paginator = CappedPaginator(clinics, CLINICS_PER_PAGE, cap=CLINICS_COUNTED)
    page = paginator.get_page(request.GET.get("page"))
    # A search that found nothing offers the closest clinics and a corrected query instead.
    near_misses = form.near_misses(published) if not page.paginator.count else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinics/clinic_list.html",
        {
            "form": form,
            "page": page,
            "clinics": page.object_list,
            "filter_query": query.urlencode(),
            "near_misses": near_misses,
        },
    )


@require_safe
@cached_page()
def clinic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    clinics = (
        Clinic.objects.published()
        .with_card_details()
        .prefetch_related(
            "specialties",
            "services",
            Prefetch(
                "clinic_treatments",
                queryset=ClinicTreatment.objects.select_related("treatment").order_by("treatment__name_en"),
            ),
            Prefetch(
                "accreditations",
                queryset=Accreditation.objects.order_by("kind"),
                to_attr="all_accreditations",
            ),
            Prefetch(
                "doctors",
                queryset=Doctor.objects.filter(is_published=True).prefetch_related("specialties"),
                to_attr="published_doctors",
            ),
        )
    )
    clinic = get_object_or_404(clinics, slug=slug)
    conditions_treated = Condition.objects.published().treated_by(
        treatment_ids=[link.treatment_id for link in clinic.clinic_treatments.all()],
        specialty_ids=[specialty.pk for specialty in clinic.specialties.all()],
    )
    return render(
        request,
        "clinics/clinic_detail.html",
        {
            "clinic": clinic,
            "conditions_treated": conditions_treated,
            "panels": page_panels("CLINIC_PAGE_PANELS", request, clinic),
            "jsonld": clinic_jsonld(
                clinic,
                page_url=request.build_absolute_uri(clinic.get_absolute_url()),
                language=get_language(),
            ),
        },
    )


@require_safe
@cached_page()
def doctor_detail(request: HttpRequest, clinic_slug: str, slug: str) -> HttpResponse:
    doctor = get_object_or_404(Doctor.objects.published().for_profile(), clinic__slug=clinic_slug, slug=slug)
    return render(
        request,
        "clinics/doctor_detail.html",
        {
            "doctor": doctor,
            "clinic": doctor.clinic,
            "jsonld": doctor_jsonld(
                doctor,
                page_url=request.build_absolute_uri(doctor.get_absolute_url()),
                clinic_url=request.build_absolute_uri(doctor.clinic.get_absolute_url()),
                photo_url=request.build_absolute_uri(doctor.photo.url) if doctor.photo else "",
            ),
        },
    )


@require_safe
@cached_page(query=["clinic", "condition"])
def clinic_compare(request: HttpRequest) -> HttpResponse:
    """Two or three clinics side by side (a shareable address, kept out of search engines: each
    choice of clinics is one more page of the same content). Fewer clinics: how to choose them; more:
    refused, listing the clinics chosen to untick some."""
    form = ClinicComparisonForm(request.GET)
    if form.has_enough_clinics:
        comparison = compare_clinics(
            form.chosen_clinics, condition=form.chosen_condition, today=timezone.localdate()
        )
        response = render(
            request,
            "clinics/compare.html",
            {
                "form": form,
                "comparison": comparison,
                "panels": page_panels("COMPARISON_PAGE_PANELS", request, comparison),
            },
        )
    else:
        response = render(
            request, "clinics/compare_choose.html", {"form": form}, status=400 if form.errors else 200
        )
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
@cached_page()
def ranking(request: HttpRequest) -> HttpResponse:
    return render(request, "clinics/ranking.html")
