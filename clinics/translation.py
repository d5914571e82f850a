from modeltranslation.translator import TranslationOptions, register

from clinics.models import Clinic, ClinicTreatment, Doctor


@register(Clinic)
class ClinicTranslationOptions(TranslationOptions):
    fields = ("name", "district", "description")
    required_languages = {"en": ("name",)}


@register(ClinicTreatment)
class ClinicTreatmentTranslationOptions(TranslationOptions):
    fields = ("note",)


@register(Doctor)
class DoctorTranslationOptions(TranslationOptions):
    fields = ("name", "title")
    required_languages = {"en": ("name",)}
