from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language, get_language_info
from django.views.decorators.http import require_safe

from clinic_portal.page_cache import cached_page
from clinic_portal.panels import page_panels, panel_query_names
from conditions.forms import ConditionSearchForm
from conditions.models import Condition, ConditionSection
from conditions.structured_data import condition_page_jsonld

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


@require_safe
@cached_page()  # a search is rendered afresh
def condition_list(request: HttpRequest) -> HttpResponse:
    form = ConditionSearchForm(request.GET or None)
    published = Condition.objects.published()
    query = form.cleaned_data["q"] if form.is_valid() else ""
    conditions = list(published.search(query))
    # Never a bare "no results": the closest conditions and a corrected query instead.
    near_misses = published.near_misses(query) if query and not conditions else None
    return render(
        request,
        "conditions/condition_list.html",
        {"form": form, "conditions": conditions, "query": query, "near_misses": near_misses},
    )


def _may_preview(user: User | AnonymousUser) -> bool:
    """Staff who may see conditions in the admin see drafts and pages in review at their real URL."""
    return (
        user.is_authenticated
        and user.is_staff
        and user.is_verified()  # type: ignore[attr-defined]  # set by django-otp's middleware
        and user.has_perm("conditions.view_condition")
    )


@require_safe
@cached_page(query=lambda: panel_query_names("CONDITION_PAGE_PANELS"))
def condition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    conditions = Condition.objects.with_page_content()
    if not _may_preview(request.user):
        conditions = conditions.published()
    condition = get_object_or_404(conditions, slug=slug)
    language = get_language()
    context = {
        "condition": condition,
        # A page not (yet) on the site, shown to staff: marked as a preview, kept out of search engines.
        "is_preview": not condition.is_on_site,
        "language_name": get_language_info(language)["name_local"],
        "is_translated": condition.is_translated(language),
        "translation_is_reviewed": condition.translation_is_reviewed(language),
        "key_facts": condition.items_in(ConditionSection.KEY_FACT),
        "characteristics": condition.items_in(ConditionSection.CHARACTERISTIC),
        "symptoms": condition.items_in(ConditionSection.SYMPTOM),
        "symptom_notes": condition.items_in(ConditionSection.SYMPTOM_NOTE),
        "causes": condition.items_in(ConditionSection.CAUSE),
        "warning_signs": condition.items_in(ConditionSection.WARNING_SIGN),
        "korea_options": condition.items_in(ConditionSection.KOREA_OPTION),
        "treatment_groups": condition.treatment_groups(),
        # Higher apps add their pieces (matching clinics, the request form) through settings, so this
        # app never imports them.
        "panels": page_panels("CONDITION_PAGE_PANELS", request, condition),
        "jsonld": condition_page_jsonld(
            condition, page_url=request.build_absolute_uri(condition.get_absolute_url()), language=language
        ),
    }
    response = render(request, "conditions/condition_detail.html", context)
    if context["is_preview"]:
        response["X-Robots-Tag"] = "noindex, nofollow"
        add_never_cache_headers(response)
    return response
