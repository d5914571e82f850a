from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline, TranslationTabularInline

from clinic_portal.admin import TabbedAdmin
from clinics import photos
from clinics.forms import ClinicPhotoForm, DoctorForm
from clinics.imports import ClinicImportExportMixin
from clinics.models import (
    Accreditation,
    Clinic,
    ClinicLanguage,
    ClinicPhoto,
    ClinicService,
    ClinicTreatment,
    Doctor,
)


class ClinicTreatmentInline(TranslationTabularInline):
    model = ClinicTreatment
    extra = 0
    autocomplete_fields = ["treatment"]


class ClinicLanguageFormSet(BaseInlineFormSet):
    """A published clinic keeps at least one supported language (its other publication rules are
    checked by ``ClinicForm``, which holds those fields)."""

    def clean(self):
        super().clean()
        if not self.instance.is_published:
            return
        kept = [
            form.cleaned_data["language"]
            for form in self.forms
            if form.cleaned_data.get("language") and not self._should_delete_form(form)
        ]
        # The specialties are not on this formset: only the rule on languages is this formset's.
        problems = self.instance.publication_problems(specialties=(), languages=kept)
        if "languages" in problems:
            raise ValidationError(problems["languages"])


class ClinicLanguageInline(admin.TabularInline):
    model = ClinicLanguage
    formset = ClinicLanguageFormSet
    extra = 0


class ClinicServiceInline(admin.TabularInline):
    model = ClinicService
    extra = 0


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    extra = 0


class ClinicForm(forms.ModelForm):
    """Refuses to publish a clinic that breaks a publication rule (``Clinic.publication_problems``);
    the error shows beside the field to fix, and nothing is saved."""

    def _post_clean(self):
        super()._post_clean()
        if not self.instance.is_published:
            return
        specialties = self.cleaned_data.get("specialties") if "specialties" in self.fields else None
        # The languages are an inline's: ``ClinicLanguageFormSet`` checks the rule on them.
        problems = self.instance.publication_problems(specialties=specialties, languages=())
        for field, message in problems.items():
            if field != "languages":
                self.add_error(field if field in self.fields else None, message)


class DoctorInline(TranslationStackedInline):
    model = Doctor
    form = DoctorForm
    extra = 0
    # The form's fields, with the photo's preview above the photo.
    fields = [
        name
        for field in DoctorForm.Meta.fields
        for name in (["preview", field] if field == "photo" else [field])
    ]
    readonly_fields = ["preview"]
    autocomplete_fields = ["specialties", "focus_conditions", "focus_treatments"]

    @admin.display(description=_("preview"))
    def preview(self, doctor):
        portrait = doctor.portrait if doctor.pk else None
        if portrait is None:
            return "—"
        return format_html(
            '<img class="clinic-photo-preview" src="{}" alt="" width="{}" height="{}">',
            photos.smallest_url(portrait),
            120,
            round(120 * portrait.height / portrait.width) if portrait.width else 120,
        )


class ClinicPhotoInline(TranslationStackedInline):
    model = ClinicPhoto
    form = ClinicPhotoForm
    extra = 0
    fields = ["preview", "image", "subject", "alt_text", "position"]
    readonly_fields = ["preview"]

    @admin.display(description=_("preview"))
    def preview(self, photo):
        if not photo.pk or not photo.image:
            return "—"
        return format_html(
            '<img class="clinic-photo-preview" src="{}" alt="" width="{}" height="{}">',
            photos.smallest_url(photo),
            160,
            round(160 * photo.height / photo.width) if photo.width else 120,
        )


class UpkeepFilter(admin.SimpleListFilter):
    """What the clinic manager has to check again (also counted on the admin's front page)."""

    title = _("upkeep")
    parameter_name = "upkeep"
    # value: (label, the ClinicQuerySet method listing those clinics)
    CHECKS = {
        "accreditation-expiring": (_("Accreditation expiring within 90 days"), "accreditation_expiring"),
        "registration-unverified": (_("Registration not verified this year"), "registration_unverified"),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, method) in self.CHECKS.items()]

    def queryset(self, request, queryset):
        if self.value() in self.CHECKS:
            _label, method = self.CHECKS[self.value()]
            return getattr(queryset, method)()
        return queryset


@admin.register(Clinic)
class ClinicAdmin(ClinicImportExportMixin, TabbedAdmin):
    form = ClinicForm
    list_display = ["name", "kind", "city", "is_published", "is_sample", "registration_verified_on"]
    list_filter = ["is_published", UpkeepFilter, "is_sample", "kind", "city"]
    search_fields = ["name_en", "legal_name_ko", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ["specialties"]
    # The rows whose changes show on the clinic's "Changes" page.
    history_linked_rows = [
        "clinic_treatments",
        "languages",
        "services",
        "accreditations",
        "doctors",
        "photos",
    ]
    inlines = [
        ClinicTreatmentInline,
        ClinicLanguageInline,
        ClinicServiceInline,
        AccreditationInline,
        DoctorInline,
        ClinicPhotoInline,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    "name",
                    "legal_name_ko",
                    "kind",
                    "is_published",
                    "is_sample",
                    "description",
                ]
            },
        ),
        (
            _("Location and contact"),
            {
                "fields": [
                    "city",
                    "district",
                    "address_ko",
                    "address_en",
                    "latitude",
                    "longitude",
                    "phone",
                    "website",
                ]
            },
        ),
        (
            _("Shared cases"),
            {"fields": ["contact_email", "contact_language"]},
        ),
        (_("Facts"), {"fields": ["year_founded", "bed_count", "specialties"]}),
        (
            _("International patients"),
            {
                "fields": [
                    "has_international_centre",
                    "foreign_patient_registration_number",
                    "registration_verified_on",
                ]
            },
        ),
    ]

    # Adding a clinic asks only for what it needs to exist; the rest (doctors, treatments, languages,
    # accreditations, photo, publication) is added on its change page, where the add form leads.
    add_fieldsets = [
        (
            None,
            {"fields": ["name_en", "slug", "legal_name_ko", "kind", "city", "address_ko", "address_en"]},
        ),
    ]

    def index_panel(self, request):
        """The upkeep panel of the admin's front page (for those who may change clinics): how many
        clinics each check lists, linked to the filtered list."""
        if not self.has_change_permission(request):
            return None
        changelist = reverse("admin:clinics_clinic_changelist")
        return {
            "template": "admin/clinics/upkeep_panel.html",
            "rows": [
                {
                    "label": label,
                    "count": getattr(Clinic.objects, method)().count(),
                    "url": f"{changelist}?{UpkeepFilter.parameter_name}={value}",
                }
                for value, (label, method) in UpkeepFilter.CHECKS.items()
            ],
        }

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def check_restored(self, request, clinic, row):
        # An earlier value restored from the "Changes" page is held to the publication rules too.
        if isinstance(row, Clinic) and row.is_published and (problems := row.publication_problems()):
            raise ValidationError(list(problems.values()))

    def response_add(self, request, obj, post_url_continue=None):
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            _(
                "The clinic “%(name)s” was added, unpublished. Now add its specialties, treatments, "
                "languages, doctors and accreditations below."
            )
            % {"name": obj},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:clinics_clinic_change", args=[obj.pk]))
