from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message, unquote
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline, TranslationTabularInline
from modeltranslation.utils import build_localized_fieldname

from clinic_portal.admin import TabbedAdmin
from conditions.models import (
    Condition,
    ConditionItem,
    ConditionSection,
    ConditionTreatment,
    Reference,
    Specialty,
    TranslationReview,
    Treatment,
)

# A condition's list entries are edited per section, a page of entries at a time: 20 entries of about
# 21 fields each plus at most 10 new ones stay far below Django's 1,000 fields per request
# (DATA_UPLOAD_MAX_NUMBER_FIELDS) however long a condition grows.
ITEMS_PER_PAGE = 20
NEW_ITEMS_PER_SAVE = 10


@admin.register(Specialty)
class SpecialtyAdmin(TabbedAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Treatment)
class TreatmentAdmin(TabbedAdmin):
    list_display = ["name", "category", "is_clinical_service", "slug"]
    list_filter = ["category", "is_clinical_service"]
    search_fields = ["name_en", "synonyms_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    # Other names (brands, everyday words) get a tab per language: patients search in theirs.
    fields = ["slug", "category", "is_clinical_service", "name", "synonyms", "description"]


class SectionItemsFormSet(BaseInlineFormSet):
    """One page of the entries of one section; a new entry joins that section after its last entry
    (an entry moved to another section leaves the page)."""

    section = ""
    next_position = 0

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is None or index >= self.initial_form_count():
            kwargs["initial"] = {"section": self.section, "position": self.next_position}
        return kwargs


class SectionItemsInline(TranslationStackedInline):
    """The entries of one section of a condition, on their own page (``ConditionAdmin.items_view``)."""

    model = ConditionItem
    formset = SectionItemsFormSet
    extra = 0

    def __init__(self, parent_model, admin_site, *, section, item_ids):
        super().__init__(parent_model, admin_site)
        self.section = section
        self.item_ids = item_ids
        self.verbose_name = self.verbose_name_plural = ConditionSection(section).label
        self.max_num = len(item_ids) + NEW_ITEMS_PER_SAVE
        self.fields = [("section", "position"), "title", "text"]
        if section == ConditionSection.WARNING_SIGN:
            self.fields.insert(1, "is_urgent")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(section=self.section, pk__in=self.item_ids)


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
class ConditionAdmin(TabbedAdmin):
    list_display = ["name", "status", "last_reviewed", "next_review_due", "review_status"]
    list_filter = ["status", ReviewDueFilter]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ["specialties"]
    # The list entries are not inlined here: each section has its own page (items_view), linked from
    # the "Lists on the page" panel of the change page.
    inlines = [ConditionTreatmentInline, ReferenceInline, TranslationReviewInline]
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

    def get_urls(self):
        items = path(
            "<path:object_id>/items/<slug:section>/",
            self.admin_site.admin_view(self.items_view),
            name="conditions_condition_items",
        )
        return [items, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["list_sections"] = self._list_sections(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _list_sections(self, request, condition):
        """Each section's number of entries, the languages missing some of their text (where the
        English text exists), and the link to its page (none for a user who may not see entries)."""
        reachable = request.user.has_perm("conditions.view_conditionitem") or request.user.has_perm(
            "conditions.change_conditionitem"
        )
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        others = [code for code, _name in settings.LANGUAGES if code != default]
        columns = {
            code: [build_localized_fieldname(field, code) for field in ("title", "text")]
            for code in (default, *others)
        }
        counts, missing = {}, {}
        for row in condition.items.values(
            "section", *(column for names in columns.values() for column in names)
        ):
            counts[row["section"]] = counts.get(row["section"], 0) + 1
            for code in others:
                if any(
                    row[english] and not row[column]
                    for english, column in zip(columns[default], columns[code], strict=True)
                ):
                    missing.setdefault(row["section"], set()).add(code)
        return [
            {
                "label": section.label,
                "count": counts.get(section.value, 0),
                "missing": [code for code in others if code in missing.get(section.value, ())],
                "url": reverse("admin:conditions_condition_items", args=[condition.pk, section.value])
                if reachable
                else "",
            }
            for section in ConditionSection
        ]

    def items_view(self, request, object_id, section):
        """One section's entries of a condition (a page of them), each with its language tabs."""
        condition = self.get_object(request, unquote(object_id))
        if condition is None or section not in ConditionSection.values:
            raise Http404
        entries = condition.items.filter(section=section).order_by("position", "pk")
        page = Paginator(entries.values_list("pk", flat=True), ITEMS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        inline = SectionItemsInline(self.model, self.admin_site, section=section, item_ids=list(page))
        if not (
            self.has_view_or_change_permission(request, condition)
            and inline.has_view_permission(request, condition)
        ):
            raise Http404
        FormSet = inline.get_formset(request, condition)
        FormSet.section = section
        FormSet.next_position = (entries.aggregate(last=Max("position"))["last"] or 0) + 1
        formset = FormSet(**self.get_formset_kwargs(request, condition, inline, FormSet.get_default_prefix()))
        [inline_admin_formset] = self.get_inline_formsets(request, [formset], [inline], condition)
        editable = inline_admin_formset.has_add_permission or inline_admin_formset.has_change_permission
        if request.method == "POST":
            if not editable:
                raise Http404
            if formset.is_valid():
                return self._save_items(request, condition, formset, section)
        errors = [
            *formset.non_form_errors(),
            *(error for form_errors in formset.errors for error in form_errors.values()),
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("List entries: %(section)s") % {"section": ConditionSection(section).label},
            "section_label": ConditionSection(section).label,
            "subtitle": str(condition),
            "opts": self.opts,
            "original": condition,
            "page_obj": page,
            "inline_admin_formsets": [inline_admin_formset],
            "errors": errors,
            "media": self.media + inline_admin_formset.media,
            "add": False,
            "change": True,
            "is_popup": False,
            "save_as": False,
            "has_view_permission": True,
            # The condition itself is not edited on this page, only its entries.
            "has_add_permission": False,
            "has_change_permission": False,
            "has_delete_permission": False,
            "has_editable_inline_admin_formsets": editable,
            "has_file_field": False,
        }
        return TemplateResponse(request, "admin/conditions/condition/items.html", context)

    def _save_items(self, request, condition, formset, section):
        with transaction.atomic():
            self.save_formset(request, None, formset, change=True)
            if formset.new_objects or formset.changed_objects or formset.deleted_objects:
                condition.save(update_fields=["updated_at"])  # the page changed (sitemap, dateModified)
                self.log_change(request, condition, construct_change_message(forms.Form(), [formset], False))
        self.message_user(
            request,
            _("The entries “%(section)s” of %(condition)s were saved.")
            % {"section": ConditionSection(section).label, "condition": condition},
            messages.SUCCESS,
        )
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return HttpResponseRedirect(reverse("admin:conditions_condition_change", args=[condition.pk]))
