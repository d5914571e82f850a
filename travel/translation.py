from modeltranslation.translator import TranslationOptions, register

from travel.models import REVIEWED_GUIDE_TEXT, REVIEWED_SECTION_TEXT, GuideSection, TravelGuide


@register(TravelGuide)
class TravelGuideTranslationOptions(TranslationOptions):
    # The texts a translation reviewer checks, and the reviewer's name as readers see it.
    fields = (*REVIEWED_GUIDE_TEXT, "reviewer_name")
    required_languages = {"en": ("title", "summary")}


@register(GuideSection)
class GuideSectionTranslationOptions(TranslationOptions):
    fields = REVIEWED_SECTION_TEXT
    required_languages = {"en": REVIEWED_SECTION_TEXT}
