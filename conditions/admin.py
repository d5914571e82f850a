import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message, unquote
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline, TranslationTabularInline
from modeltranslation.utils import build_localized_fieldname

from clinic_portal.admin import TabbedAdmin
from conditions.forms import ConditionPublishForm, TranslationReviewForm
from conditions.models import (
    REVIEWED_CONDITION_TEXT,
    REVIEWED_ITEM_TEXT,
    Condition,
    ConditionItem,
    ConditionSection,
    ConditionStatus,
    ConditionTreatment,
    Reference,
    Specialty,
    Treatment,
)
from conditions.services import (
    condition_content_edited,
    condition_publish,
    condition_submit_for_review,
    condition_withdraw,
    translation_review_save,
)

# A condition's list entries are edited per section, a page of entries at a time: 20 entries of about
# 21 fields each plus at most 10 new ones stay far below Django's 1,000 fields per request
# (DATA_UPLOAD_MAX_NUMBER_FIELDS) however long a condition grows.
ITEMS_PER_PAGE = 20
NEW_ITEMS_PER_SAVE = 10


# A published page is reviewed again within a year unless the reviewer sets another date.
REVIEW_INTERVAL_DAYS = 365


def _side_by_side(condition, language):
    """[(label, English text, text in the language)] of what a translation reviewer checks."""
    default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    rows = []

    def add(label, obj, field):
        english = getattr(obj, build_localized_fieldname(field, default)) or ""
        if english or getattr(obj, build_localized_fieldname(field, language)):
            rows.append((label, english, getattr(obj, build_localized_fieldname(field, language)) or ""))

    for field in REVIEWED_CONDITION_TEXT:
        add(Condition._meta.get_field(field).verbose_name, condition, field)
    for item in condition.items.all():
        for field in REVIEWED_ITEM_TEXT:
            add(
                f"{item.get_section_display()} · {ConditionItem._meta.get_field(field).verbose_name}",
                item,
                field,
            )
    for link in condition.condition_treatments.all():
        add(f"{link.treatment} · {ConditionTreatment._meta.get_field('note').verbose_name}", link, "note")
    return rows


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


class TranslationReviewAdminMixin:
    """The change page's table of each language's review, and the page where a reviewer checks one
    language beside the English. The model has ``ReviewedTranslationsMixin``; its admin says which
    permission records a check and how to load the object with the texts its fingerprint reads."""

    review_permission = ""

    def translation_subject(self, obj):
        """The object with everything ``translation_fingerprint`` and ``translation_texts`` read."""
        raise NotImplementedError

    def translation_texts(self, obj, language):
        """[(label, English text, text in the language)] of what the reviewer checks."""
        raise NotImplementedError

    def _review_url_name(self):
        return f"{self.opts.app_label}_{self.opts.model_name}_translation_review"

    def translation_review_urls(self):
        return [
            path(
                "<path:object_id>/translations/<str:language>/",
                self.admin_site.admin_view(self.translation_review_view),
                name=self._review_url_name(),
            )
        ]

    def _translation_states(self, request, obj):
        """Each language's review: checked (by whom, when), stale (edited since) or not yet checked."""
        obj = self.translation_subject(obj)
        may_review = request.user.has_perm(self.review_permission)
        states = []
        for code, name in settings.LANGUAGES:
            if code == settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
                continue
            states.append(
                {
                    "code": code,
                    "name": name,
                    "review": obj.translation_review(code),
                    "is_current": obj.translation_is_reviewed(code),
                    "url": reverse(f"admin:{self._review_url_name()}", args=[obj.pk, code])
                    if may_review
                    else "",
                }
            )
        return states

    def translation_review_view(self, request, object_id, language):
        """One language's texts beside the English; the reviewer records that they checked them."""
        obj = self.get_object(request, unquote(object_id))
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        languages = dict(settings.LANGUAGES)
        if (
            obj is None
            or not self.has_view_or_change_permission(request, obj)
            or not request.user.has_perm(self.review_permission)
            or language not in languages
            or language == default
        ):
            raise Http404
        obj = self.translation_subject(obj)
        form = TranslationReviewForm(
            request.POST or None, initial={"reviewer_name": request.user.get_full_name()}
        )
        if request.method == "POST" and form.is_valid():
            translation_review_save(
                subject=obj,
                language=language,
                reviewer_name=form.cleaned_data["reviewer_name"],
                user=request.user,
            )
            message = _("The %(language)s translation of “%(condition)s” is recorded as checked.") % {
                "language": languages[language],
                "condition": obj,
            }
            self.log_change(request, obj, message)
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Check the %(language)s translation") % {"language": languages[language]},
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "language_code": language,
            "language_name": languages[language],
            "review": obj.translation_review(language),
            "is_current": obj.translation_is_reviewed(language),
            "texts": self.translation_texts(obj, language),
        }
        return TemplateResponse(request, "admin/conditions/condition/translation_review.html", context)


@admin.register(Condition)
class ConditionAdmin(TranslationReviewAdminMixin, TabbedAdmin):
    list_display = ["name", "status", "last_reviewed", "next_review_due", "review_status"]
    review_permission = "conditions.review_translation"
    # The rows whose changes show on the condition's "Changes" page; a list entry is named by its section.
    history_linked_rows = ["items", "condition_treatments", "references", "translation_reviews"]
    history_row_kinds = {"items": "section"}
    list_filter = ["status", ReviewDueFilter]
    search_fields = ["name_en", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ["specialties"]
    # The list entries are not inlined here: each section has its own page (items_view), linked from
    # the "Lists on the page" panel of the change page.
    # Translation reviews are recorded one language at a time (translation_review_view), not typed in.
    inlines = [ConditionTreatmentInline, ReferenceInline]
    # The workflow moves through its own buttons and the publication page, which records the review.
    readonly_fields = ["status", "published_at", "last_reviewed", "next_review_due"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    ("status", "published_at"),
                    "schema_type",
                    "name",
                    "other_names",
                    "summary",
                    "specialties",
                ]
            },
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
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/items/<slug:section>/",
                view(self.items_view),
                name="conditions_condition_items",
            ),
            path("<path:object_id>/publish/", view(self.publish_view), name="conditions_condition_publish"),
            path(
                "<path:object_id>/workflow/<slug:action>/",
                view(self.workflow_view),
                name="conditions_condition_workflow",
            ),
            *self.translation_review_urls(),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["list_sections"] = self._list_sections(request, obj)
            context["workflow"] = self._workflow_actions(request, obj)
            context["translation_states"] = self._translation_states(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def index_panel(self, request):
        """The admin front page's editorial panel: pages past their medical review, and pages waiting
        for one (for those who may see conditions)."""
        if not self.has_view_or_change_permission(request):
            return None
        changelist = reverse("admin:conditions_condition_changelist")
        return {
            "template": "admin/conditions/editorial_panel.html",
            "overdue": list(Condition.objects.overdue_reviews().order_by("next_review_due")[:20]),
            "overdue_url": f"{changelist}?{ReviewDueFilter.parameter_name}=overdue",
            "awaiting": list(Condition.objects.awaiting_review().order_by("updated_at")[:20]),
            "awaiting_url": f"{changelist}?status__exact={ConditionStatus.IN_REVIEW}",
        }

    # --- the editorial workflow -------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        obj._content_changed = change and bool(form.changed_data)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        condition = form.instance
        edited = getattr(condition, "_content_changed", False) or any(
            formset.has_changed() for formset in formsets
        )
        if change and edited and condition_content_edited(condition=condition):
            self._tell_back_to_review(request)

    def content_restored(self, request, condition):
        # An earlier value restored from the "Changes" page is an edit like any other.
        condition.save(update_fields=["updated_at"])  # the page changed (sitemap, dateModified)
        if condition_content_edited(condition=condition):
            self._tell_back_to_review(request)

    def _tell_back_to_review(self, request):
        self.message_user(
            request,
            _(
                "The page was published, so your changes go to medical review. It stays on the site, "
                "marked as changed since its review, until a reviewer publishes it again."
            ),
            messages.WARNING,
        )

    def _may_publish(self, request):
        return request.user.has_perm("conditions.publish_condition")

    def _workflow_actions(self, request, condition):
        """The buttons of the change page's workflow box, for this user and state."""
        may_change = self.has_change_permission(request, condition)
        may_publish = self._may_publish(request)
        actions = []
        if condition.status == ConditionStatus.DRAFT and may_change:
            actions.append(("submit", _("Send to medical review")))
        if condition.status != ConditionStatus.DRAFT and may_publish:
            label = _("Withdraw from the site") if condition.is_on_site else _("Back to draft")
            actions.append(("withdraw", label))
        return {
            "actions": [
                {
                    "label": label,
                    "url": reverse("admin:conditions_condition_workflow", args=[condition.pk, action]),
                }
                for action, label in actions
            ],
            "publish_url": reverse("admin:conditions_condition_publish", args=[condition.pk])
            if may_publish and condition.status == ConditionStatus.IN_REVIEW
            else "",
        }

    def _condition_or_404(self, request, object_id):
        condition = self.get_object(request, unquote(object_id))
        if condition is None or not self.has_view_or_change_permission(request, condition):
            raise Http404
        return condition

    def workflow_view(self, request, object_id, action):
        """Send a draft to medical review, or withdraw a page (POST only)."""
        condition = self._condition_or_404(request, object_id)
        allowed = {
            "submit": self.has_change_permission(request, condition),
            "withdraw": self._may_publish(request),
        }
        if request.method != "POST" or not allowed.get(action):
            raise Http404
        try:
            if action == "submit":
                condition_submit_for_review(condition=condition)
                message = _("“%(condition)s” was sent to medical review.")
            else:
                was_online = condition.is_on_site
                condition_withdraw(condition=condition)
                message = (
                    _("“%(condition)s” was withdrawn from the site; it is a draft again.")
                    if was_online
                    else _("“%(condition)s” is a draft again.")
                )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.log_change(request, condition, message % {"condition": condition})
            self.message_user(request, message % {"condition": condition}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:conditions_condition_change", args=[condition.pk]))

    def publish_view(self, request, object_id):
        """The medical reviewer publishes the page, recording their name, credentials and dates."""
        condition = self._condition_or_404(request, object_id)
        if not self._may_publish(request) or condition.status != ConditionStatus.IN_REVIEW:
            raise Http404
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        today = timezone.localdate()
        initial = {
            "reviewer_name": getattr(condition, build_localized_fieldname("reviewer_name", default))
            or request.user.get_full_name(),
            "reviewer_credentials": getattr(
                condition, build_localized_fieldname("reviewer_credentials", default)
            ),
            "reviewed_on": today,
            "next_review_due": today + datetime.timedelta(days=REVIEW_INTERVAL_DAYS),
        }
        form = ConditionPublishForm(request.POST or None, condition=condition, initial=initial)
        problems = []
        if request.method == "POST" and form.is_valid():
            try:
                condition_publish(condition=condition, **form.cleaned_data)
            except ValidationError as error:
                problems = error.messages
                condition.refresh_from_db()
            else:
                message = _("“%(condition)s” is published.") % {"condition": condition}
                self.log_change(request, condition, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:conditions_condition_change", args=[condition.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Publish %(condition)s") % {"condition": condition},
            "subtitle": str(condition),
            "opts": self.opts,
            "original": condition,
            "form": form,
            "problems": problems or list(condition.publication_problems().values()),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/conditions/condition/publish.html", context)

    def translation_subject(self, obj):
        return Condition.objects.with_page_content().get(pk=obj.pk)

    def translation_texts(self, obj, language):
        return _side_by_side(obj, language)

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
                if condition_content_edited(condition=condition):
                    self._tell_back_to_review(request)
        self.message_user(
            request,
            _("The entries “%(section)s” of %(condition)s were saved.")
            % {"section": ConditionSection(section).label, "condition": condition},
            messages.SUCCESS,
        )
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return HttpResponseRedirect(reverse("admin:conditions_condition_change", args=[condition.pk]))
