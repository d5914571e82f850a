from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin, TranslationStackedInline, TranslationTabularInline

from conditions.models import (
    Condition,
    ConditionItem,
    ConditionTreatment,
    Reference,
    Specialty,
    TranslationReview,
    Treatment,
)


@admin.register(Specialty)
class SpecialtyAdmin(TabbedTranslationAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Treatment)
class TreatmentAdmin(TabbedTranslationAdmin):
    list_display = ["name", "category", "slug"]
    list_filter = ["category"]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}


class ConditionItemInline(TranslationStackedInline):
    model = ConditionItem
    extra = 0
    fields = ["section", "position", "is_urgent", "title", "text"]


class ConditionTreatmentInline(TranslationTabularInline):
    model = ConditionTreatment
    extra = 0
    autocomplete_fields = ["treatment"]


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0


class TranslationReviewInline(admin.TabularInline):
    model = TranslationReview
    extra = 0


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("medical review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("current", _("Current"))]

    def queryset(self, request, queryset):
        overdue = queryset.due_for_review()
        if self.value() == "overdue":
            return overdue
        if self.value() == "current":
            return queryset.exclude(pk__in=overdue.values("pk"))
        return queryset


@admin.register(Condition)
class ConditionAdmin(TabbedTranslationAdmin):
    list_display = ["name", "status", "last_reviewed", "next_review_due", "review_status"]
    list_filter = ["status", ReviewDueFilter]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ["specialties"]
    inlines = [ConditionItemInline, ConditionTreatmentInline, ReferenceInline, TranslationReviewInline]
    fieldsets = [
        (
            None,
            {"fields": ["slug", "status", "schema_type", "name", "other_names", "summary", "specialties"]},
        ),
        (
            _("Page content"),
            {
                "fields": [
                    "overview",
                    "definition",
                    "definition_note",
                    "symptoms_intro",
                    "mechanism",
                    "care_intro",
                    "korea_intro",
                ]
            },
        ),
        (
            _("Medical review"),
            {"fields": ["reviewer_name", "reviewer_credentials", "last_reviewed", "next_review_due"]},
        ),
    ]

    @admin.display(description=_("review"), boolean=False)
    def review_status(self, condition):
        return _("Overdue") if condition.review_is_overdue else _("Current")
