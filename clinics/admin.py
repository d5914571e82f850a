from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline, TranslationTabularInline

from clinic_portal.admin import TabbedAdmin
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


class DoctorForm(forms.ModelForm):
    # The model keeps a JSON list of language codes; editors tick the languages.
    languages = forms.MultipleChoiceField(
        label=capfirst(Doctor._meta.get_field("languages").verbose_name),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Doctor
        fields = ["name", "title", "specialty", "languages", "position"]

    def clean_languages(self):
        chosen = set(self.cleaned_data["languages"])
        return [code for code, _name in settings.LANGUAGES if code in chosen]


class DoctorInline(TranslationStackedInline):
    model = Doctor
    form = DoctorForm
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(TabbedAdmin):
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

    # Adding a clinic asks only for what it needs to exist; the rest (doctors, treatments, languages,
    # accreditations, photo, publication) is added on its change page, where the add form leads.
    add_fieldsets = [
        (
            None,
            {"fields": ["name_en", "slug", "legal_name_ko", "kind", "city", "address_ko", "address_en"]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        clinic_refresh_search_text(clinic=form.instance)
