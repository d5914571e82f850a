from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin, TranslationStackedInline, TranslationTabularInline

from clinics.models import Accreditation, Clinic, ClinicLanguage, ClinicService, ClinicTreatment, Doctor
from clinics.services import clinic_refresh_search_text


class ClinicTreatmentInline(TranslationTabularInline):
    model = ClinicTreatment
    extra = 0
    autocomplete_fields = ["treatment"]


class ClinicLanguageInline(admin.TabularInline):
    model = ClinicLanguage
    extra = 0


class ClinicServiceInline(admin.TabularInline):
    model = ClinicService
    extra = 0


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    extra = 0


class DoctorInline(TranslationStackedInline):
    model = Doctor
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(TabbedTranslationAdmin):
    list_display = ["name", "kind", "city", "is_published", "is_sample", "registration_verified_on"]
    list_filter = ["is_published", "is_sample", "kind", "city"]
    search_fields = ["name_en", "legal_name_ko", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ["specialties"]
    inlines = [
        ClinicTreatmentInline,
        ClinicLanguageInline,
        ClinicServiceInline,
        AccreditationInline,
        DoctorInline,
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
                    "photo",
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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        clinic_refresh_search_text(clinic=form.instance)
