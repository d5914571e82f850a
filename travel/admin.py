from django.conf import settings
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline
from modeltranslation.utils import build_localized_fieldname

from clinic_portal.admin import TabbedAdmin
from conditions.admin import TranslationReviewAdminMixin
from travel.models import REVIEWED_GUIDE_TEXT, REVIEWED_SECTION_TEXT, GuideSection, TravelGuide


def _label(model: type[models.Model], field: str) -> str:
    return str(getattr(model._meta.get_field(field), "verbose_name", field))


class GuideSectionInline(TranslationStackedInline):
    model = GuideSection
    extra = 0
    fields = [("anchor", "position"), "heading", "body"]


@admin.register(TravelGuide)
class TravelGuideAdmin(TranslationReviewAdminMixin, TabbedAdmin):
    list_display = ["title", "is_published", "last_reviewed", "next_review_due"]
    review_permission = "travel.review_translation"
    inlines = [GuideSectionInline]
    fieldsets = [
        (None, {"fields": ["title", "summary", "is_published"]}),
        (
            _("Medical review"),
            {"fields": ["reviewer_name", "reviewer_credentials", "last_reviewed", "next_review_due"]},
        ),
    ]

    def get_urls(self) -> list[URLPattern]:
        return [*self.translation_review_urls(), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["translation_states"] = self._translation_states(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def translation_subject(self, obj: TravelGuide) -> TravelGuide:
        return TravelGuide.objects.with_page_content().get(pk=obj.pk)

    def translation_texts(self, obj: TravelGuide, language: str) -> list[tuple[str, str, str]]:
        """[(label, English text, text in the language)] of what a translation reviewer checks."""
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        rows = []
        pairs: list[tuple[str, models.Model, str]] = [
            (_label(TravelGuide, field), obj, field) for field in REVIEWED_GUIDE_TEXT
        ]
        for section in obj.sections.all():
            pairs += [
                (f"{section} · {_label(GuideSection, field)}", section, field)
                for field in REVIEWED_SECTION_TEXT
            ]
        for label, row, field in pairs:
            english = getattr(row, build_localized_fieldname(field, default)) or ""
            translated = getattr(row, build_localized_fieldname(field, language)) or ""
            if english or translated:
                rows.append((label, english, translated))
        return rows

    def has_delete_permission(self, request: HttpRequest, obj: TravelGuide | None = None) -> bool:
        # The guide on the site is taken off before it is deleted.
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_published)
