from modeltranslation.translator import TranslationOptions, register
from simple_history import register as keep_history

from conditions.models import (
    REVIEWED_CONDITION_TEXT,
    Condition,
    ConditionItem,
    ConditionTreatment,
    Reference,
    Specialty,
    TranslationReview,
    Treatment,
)


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
    # The texts a translation reviewer checks, and the reviewer's name as readers see it.
    fields = (*REVIEWED_CONDITION_TEXT, "reviewer_name")
    required_languages = {"en": ("name", "summary", "overview")}


@register(ConditionItem)
class ConditionItemTranslationOptions(TranslationOptions):
    fields = ("title", "text")
    required_languages = {"en": ("text",)}


@register(ConditionTreatment)
class ConditionTreatmentTranslationOptions(TranslationOptions):
    fields = ("note",)


# The change history is registered after the translations, so that it keeps every language's column.
keep_history(Specialty)
keep_history(Treatment)
keep_history(Condition, m2m_fields=["specialties"], excluded_fields=["search_text", "updated_at"])
keep_history(ConditionItem)
keep_history(ConditionTreatment)
keep_history(Reference)
keep_history(TranslationReview)
