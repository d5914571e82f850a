from modeltranslation.translator import TranslationOptions, register

from conditions.models import Condition, ConditionItem, ConditionTreatment, Specialty, Treatment


@register(Specialty)
class SpecialtyTranslationOptions(TranslationOptions):
    fields = ("name", "description")
    required_languages = ("en",)


@register(Treatment)
class TreatmentTranslationOptions(TranslationOptions):
    fields = ("name", "description", "synonyms")
    required_languages = ("en",)


@register(Condition)
class ConditionTranslationOptions(TranslationOptions):
    fields = (
        "name",
        "other_names",
        "summary",
        "overview",
        "definition",
        "definition_note",
        "symptoms_intro",
        "mechanism",
        "care_intro",
        "korea_intro",
        "reviewer_name",
        "reviewer_credentials",
    )
    required_languages = {"en": ("name", "summary", "overview")}


@register(ConditionItem)
class ConditionItemTranslationOptions(TranslationOptions):
    fields = ("title", "text")
    required_languages = {"en": ("text",)}


@register(ConditionTreatment)
class ConditionTreatmentTranslationOptions(TranslationOptions):
    fields = ("note",)
