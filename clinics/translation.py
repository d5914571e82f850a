from modeltranslation.translator import TranslationOptions, register
from simple_history import register as keep_history

from clinics.models import (
    Accreditation,
    Clinic,
    ClinicLanguage,
    ClinicPhoto,
    ClinicService,
    ClinicTreatment,
    Doctor,
)


@register(Clinic)
class ClinicTranslationOptions(TranslationOptions):
    fields = ("name", "district", "description")
    required_languages = {"en": ("name",)}


@register(ClinicTreatment)
class ClinicTreatmentTranslationOptions(TranslationOptions):
    fields = ("note",)


@register(Doctor)
class DoctorTranslationOptions(TranslationOptions):
    fields = ("name", "title", "training", "board_certification", "photo_alt_text")
    required_languages = {"en": ("name",)}


@register(ClinicPhoto)
class ClinicPhotoTranslationOptions(TranslationOptions):
    fields = ("alt_text",)
    required_languages = {"en": ("alt_text",)}


# The change history is registered after the translations, so that it keeps every language's column.
keep_history(Clinic, m2m_fields=["specialties"], excluded_fields=["search_text", "search_names"])
keep_history(ClinicTreatment)
keep_history(ClinicLanguage)
keep_history(ClinicService)
keep_history(Accreditation)
keep_history(Doctor)
keep_history(ClinicPhoto)
