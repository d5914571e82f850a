"""The "Changes" page of a content object in the admin: every recorded change (django-simple-history)
to the object and to its linked rows, who made it, when, old → new, and a button that restores one
field's earlier value.

An admin declares the rows that belong to its object's history with ``history_linked_rows``: the
names of the reverse relations (``"items"``, ``"accreditations"``…). The object's many-to-many fields
kept by simple-history (its specialties) are followed on their own.
"""

import datetime
import decimal
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, Value
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import NotRegistered, translator

ENTRIES_PER_PAGE = 25
# Long texts are shown from a little before their first difference, this many characters of each.
SHORT_TEXT_LENGTH = 160
CONTEXT_BEFORE_DIFFERENCE = 40

ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


@dataclass
class HistorySource:
    """One table of recorded changes shown on an object's page: the object's own, or a linked row's."""

    model: type
    link: str  # the column of the historical table that holds the object's id
    kind_field: str = ""  # a choice field naming the kind of row ("Symptom"), instead of the model's name

    @property
    def key(self):
        return self.model._meta.label_lower

    @property
    def history_model(self):
        return self.model.history.model

    def records_of(self, object_id):
        return self.model.history.filter(**{self.link: object_id})


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str
    old_full: str = ""  # the whole texts, when ``old``/``new`` are shortened
    new_full: str = ""
    can_restore: bool = False
    note: str = ""

    @property
    def shortened(self):
        return bool(self.old_full or self.new_full)


@dataclass
class ChangeEntry:
    source: HistorySource
    history_id: int
    when: datetime.datetime
    who: str
    action: str
    row: str
    is_change: bool
    row_gone: bool = False
    reason: str = ""
    changes: list = field(default_factory=list)

    @property
    def source_key(self):
        return self.source.key


class RestoreRefused(Exception):
    """The earlier value cannot be restored; the message says why (translated)."""


class NothingToRestore(LookupError):
    """No recorded change of that field of that row of the object (a forged or stale button)."""


# --- what is compared --------------------------------------------------------------------------------


def _translated_originals(model):
    """The fields modeltranslation replaced by one column per language (``name`` of ``name_en``…):
    their own column follows the active language and would show changes no one made."""
    try:
        return set(translator.get_options_for_model(model).all_fields)
    except NotRegistered:
        return set()


def _tracked_names(model):
    return {f.name for f in model.history.model.tracked_fields}


def compared_fields(model):
    """The live model's fields whose changes are listed: those an editor can change, one column per
    language for the translated ones."""
    tracked = _tracked_names(model)
    originals = _translated_originals(model)
    return [
        f
        for f in model._meta.concrete_fields
        if f.name in tracked and f.editable and not f.primary_key and f.name not in originals
    ]


def compared_m2m_fields(model):
    return list(model.history.model._history_m2m_fields)


def _m2m_history_model(model, m2m_field):
    return getattr(model.history.model, m2m_field.name).model


# --- how values read ---------------------------------------------------------------------------------


def _shorten_pair(old, new):
    """Both texts from a little before their first difference, each cut to a readable length."""
    if len(old) <= SHORT_TEXT_LENGTH and len(new) <= SHORT_TEXT_LENGTH:
        return old, new, False
    same = next(
        (i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new))
    )
    start = max(0, same - CONTEXT_BEFORE_DIFFERENCE)
    if start:
        space = old.rfind(" ", 0, start + 1)
        start = space + 1 if space > 0 else start

    def cut(text):
        piece = text[start : start + SHORT_TEXT_LENGTH]
        return ("…" if start else "") + piece + ("…" if len(text) > start + SHORT_TEXT_LENGTH else "")

    return cut(old), cut(new), True


def _is_empty(value):
    return value is None or value == "" or value == []


def _display(model_field, value, objects):
    """A field's value as an editor reads it (the names of related rows, labels of choices…)."""
    if _is_empty(value):
        return ""
    if model_field.many_to_many:
        related = objects.get(model_field.related_model, {})
        return ", ".join(sorted(_related_text(related, pk) for pk in value))
    if model_field.is_relation:
        return _related_text(objects.get(model_field.related_model, {}), value)
    if model_field.flatchoices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, int | float | decimal.Decimal):
        return formats.number_format(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _related_text(related, pk):
    found = related.get(pk)
    if found is None:
        return gettext("deleted (#%(id)s)") % {"id": pk}
    return str(found)


def _who(user):
    if user is None:
        return gettext("system or import")
    return user.get_full_name() or user.get_username()


# --- reading a page of changes -----------------------------------------------------------------------


def history_sources(model_admin):
    """The object's own table of changes, then its linked rows' (``history_linked_rows``)."""
    model = model_admin.model
    sources = [HistorySource(model, "id")]
    kinds = getattr(model_admin, "history_row_kinds", {})
    for name in getattr(model_admin, "history_linked_rows", ()):
        relation = model._meta.get_field(name)
        sources.append(HistorySource(relation.related_model, relation.field.attname, kinds.get(name, "")))
    return sources


def change_entries(sources, object_id):
    """Every recorded change of the object and its linked rows, newest first, as (source index,
    history id) rows: one query, to be paginated."""
    parts = [
        source.records_of(object_id)
        .order_by()
        .annotate(source=Value(index))
        .values_list("source", "history_id", "history_date")
        for index, source in enumerate(sources)
    ]
    return parts[0].union(*parts[1:], all=True).order_by("-history_date", "-history_id", "source")


def build_entries(sources, rows, parent, restorable):
    """The entries of a page of ``change_entries``, in a fixed number of queries (see ``_PageRecords``).
    ``restorable``: {source key: the fields the user may restore}."""
    loaded = _PageRecords(sources, rows, parent)
    entries = []
    for index, history_id, _date in rows:
        record = loaded.records.get((index, history_id))
        if record is None:  # removed between the two queries
            continue
        source = sources[index]
        before = loaded.previous.get((index, record.previous_id))
        row = loaded.live[index].get(record.id)
        entry = ChangeEntry(
            source=source,
            history_id=history_id,
            when=record.history_date,
            who=_who(record.history_user),
            action=ACTIONS.get(record.history_type, record.history_type),
            row=_row_label(source, record, loaded.references),
            is_change=record.history_type == "~" and before is not None,
            row_gone=row is None,
            reason=record.history_change_reason or "",
        )
        if entry.is_change:
            entry.changes = _field_changes(index, source, record, before, row, loaded, restorable[source.key])
            if not entry.changes:  # saved as it was (e.g. the page's date touched): nothing to show
                continue
        entries.append(entry)
    return entries


class _PageRecords:
    """What a page of entries needs, per table on the page: its records (with their authors), the
    records before them, the live rows and the kept many-to-many values; then the related rows
    named in them, one query per kind (treatments, specialties…)."""

    def __init__(self, sources, rows, parent):
        self.records, self.previous, self.live, self.m2m_values = {}, {}, {}, {}
        self.references = {type(parent): {parent.pk: parent}}
        self._wanted_references = {}
        by_source = {}
        for index, history_id, _date in rows:
            by_source.setdefault(index, []).append(history_id)
        for index, history_ids in by_source.items():
            self._load_source(index, sources[index], history_ids, type(parent))
        for related_model, ids in self._wanted_references.items():
            self.references.setdefault(related_model, {}).update(related_model._base_manager.in_bulk(ids))

    def _load_source(self, index, source, history_ids, parent_model):
        history = source.history_model
        earlier = history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        found = list(
            history.objects.filter(history_id__in=history_ids)
            .select_related("history_user")
            .annotate(previous_id=Subquery(earlier.order_by("-history_id").values("history_id")[:1]))
        )
        previous_ids = [record.previous_id for record in found if record.previous_id]
        before = list(history.objects.filter(history_id__in=previous_ids)) if previous_ids else []
        self.records.update(((index, record.history_id), record) for record in found)
        self.previous.update(((index, record.history_id), record) for record in before)
        self.live[index] = source.model._default_manager.in_bulk({record.id for record in found})
        for m2m_field in compared_m2m_fields(source.model):
            self._load_m2m(index, source, m2m_field, [*history_ids, *previous_ids])
        for model_field in source.model._meta.concrete_fields:
            if (
                model_field.is_relation
                and model_field.name in _tracked_names(source.model)
                and model_field.related_model is not parent_model
            ):
                ids = {getattr(record, model_field.attname) for record in [*found, *before]}
                self._want(model_field.related_model, ids - {None})

    def _load_m2m(self, index, source, m2m_field, history_ids):
        through = _m2m_history_model(source.model, m2m_field)
        target = f"{m2m_field.m2m_reverse_field_name()}_id"
        values = {}
        for history_id, pk in through.objects.filter(history_id__in=history_ids).values_list(
            "history_id", target
        ):
            values.setdefault(history_id, set()).add(pk)
        self.m2m_values[index, m2m_field.name] = values
        self._want(m2m_field.related_model, {pk for pks in values.values() for pk in pks})

    def _want(self, model, ids):
        self._wanted_references.setdefault(model, set()).update(ids)


def _row_label(source, record, references):
    """e.g. "Symptom: Ankle jerks", "Treatment offered: Hanbit → Botulinum toxin"."""
    model = source.model
    instance = model(
        **{
            f.attname: getattr(record, f.attname)
            for f in model._meta.concrete_fields
            if f.name in _tracked_names(model) and f.name not in _translated_originals(model)
        }
    )
    for model_field in model._meta.concrete_fields:
        if model_field.is_relation and model_field.name in _tracked_names(model):
            related = references.get(model_field.related_model, {}).get(getattr(record, model_field.attname))
            if related is not None:
                model_field.set_cached_value(instance, related)
            elif getattr(record, model_field.attname) is not None:
                return f"{_kind(source, instance)} #{record.id}"
    return f"{_kind(source, instance)}: {instance}"


def _kind(source, instance):
    if source.kind_field:
        return str(getattr(instance, f"get_{source.kind_field}_display")())
    return capfirst(source.model._meta.verbose_name)


def _field_changes(index, source, record, before, row, loaded, restorable):
    """The fields changed by ``record``; ``restorable``: the names of those the user may restore."""
    changes = []
    for model_field in compared_fields(source.model):
        old, new = getattr(before, model_field.attname), getattr(record, model_field.attname)
        if old == new or (_is_empty(old) and _is_empty(new)):  # an untranslated column: NULL or ""
            continue
        change = _field_change(model_field, old, new, loaded.references)
        if row is not None and model_field.name in restorable:
            current = getattr(row, model_field.attname)
            if current == old or (_is_empty(current) and _is_empty(old)):
                change.note = gettext("This is the current value.")
            else:
                change.can_restore = True
        changes.append(change)
    for m2m_field in compared_m2m_fields(source.model):
        values = loaded.m2m_values.get((index, m2m_field.name), {})
        old, new = values.get(before.history_id, set()), values.get(record.history_id, set())
        if old != new:
            changes.append(_field_change(m2m_field, old, new, loaded.references))
    return changes


def _field_change(model_field, old, new, references):
    old_text, new_text = _display(model_field, old, references), _display(model_field, new, references)
    short_old, short_new, shortened = _shorten_pair(old_text, new_text)
    return FieldChange(
        name=model_field.name,
        label=str(model_field.verbose_name),
        old=short_old,
        new=short_new,
        old_full=old_text if shortened else "",
        new_full=new_text if shortened else "",
    )


def _change_permission(model):
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename('change', opts)}"


# --- restoring one field -----------------------------------------------------------------------------


class RestoreForm(forms.Form):
    """What a "Restore the earlier value" button posts (hidden fields: anything else is not found)."""

    source = forms.CharField()
    record = forms.IntegerField(min_value=1)
    field = forms.CharField()
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self._sources = {source.key: source for source in sources}
        self.source = None

    def clean_source(self):
        self.source = self._sources.get(self.cleaned_data["source"])
        if self.source is None:
            raise ValidationError(_("Unknown kind of row."), code="invalid")
        return self.cleaned_data["source"]


def restore_earlier_value(source, object_id, history_id, field_name, restorable, check=None):
    """Set one field of a linked row (or of the object) back to its value before the recorded change
    ``history_id``, and save it (simple-history records who did). Returns (row, field).

    Raises RestoreRefused, changing nothing, when the row is gone or the value breaks the model's rules
    (``full_clean``, then ``check(row)``, which raises ValidationError for rules kept outside the model).
    """
    try:
        model_field = source.model._meta.get_field(field_name)
    except FieldDoesNotExist:
        raise NothingToRestore from None
    if model_field.name not in restorable:
        raise NothingToRestore
    record = source.records_of(object_id).filter(history_id=history_id).first()
    before = record.prev_record if record is not None and record.history_type == "~" else None
    if before is None or getattr(before, model_field.attname) == getattr(record, model_field.attname):
        raise NothingToRestore
    label = model_field.verbose_name
    try:
        with transaction.atomic():
            row = source.model._default_manager.select_for_update().filter(pk=record.id).first()
            if row is None:
                raise RestoreRefused(
                    _("This row no longer exists: the earlier value of “%(field)s” cannot be restored.")
                    % {"field": label}
                )
            setattr(row, model_field.attname, getattr(before, model_field.attname))
            try:
                row.full_clean()
                if check is not None:
                    check(row)
            except ValidationError as error:
                raise RestoreRefused(
                    _("The earlier value of “%(field)s” was not restored: %(problems)s")
                    % {"field": label, "problems": " ".join(error.messages)}
                ) from error
            row.save()
    except IntegrityError as error:
        raise RestoreRefused(
            _("The earlier value of “%(field)s” was not restored: it conflicts with another row.")
            % {"field": label}
        ) from error
    return row, model_field


# --- the admin ---------------------------------------------------------------------------------------


class ContentChangesMixin:
    """Adds the "Changes" page (``<id>/changes/``) and its restore action to a model admin whose model
    keeps a history. Optional class attributes: ``history_linked_rows`` (reverse relation names) and
    ``history_row_kinds`` ({relation name: choice field naming the kind of row})."""

    history_linked_rows: tuple[str, ...] | list[str] = ()
    history_row_kinds: dict[str, str] = {}

    def _keeps_history(self):
        return hasattr(self.model, "history")

    def get_urls(self):
        if not self._keeps_history():
            return super().get_urls()
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/changes/",
                self.admin_site.admin_view(self.content_changes_view),
                name=f"{info}_changes",
            ),
            path(
                "<path:object_id>/changes/restore/",
                self.admin_site.admin_view(self.content_changes_restore_view),
                name=f"{info}_changes_restore",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self._keeps_history() and self.has_view_or_change_permission(request, obj):
            context["content_changes_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changes", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _object_in_reach(self, request, object_id, *, to_change=False):
        obj = self.get_object(request, unquote(object_id))
        allowed = self.has_change_permission if to_change else self.has_view_or_change_permission
        if obj is None or not allowed(request, obj):
            raise Http404
        return obj

    def restorable_fields(self, request, obj, source):
        """The fields of the source's rows this user may set back: those they may change through the
        admin (not the read-only ones, e.g. a status moved only by its workflow)."""
        if not request.user.has_perm(_change_permission(source.model)):
            return set()
        if source.model is self.model:
            read_only = set(self.get_readonly_fields(request, obj))
        else:
            inlines = self.get_inline_instances(request, obj)
            inline = next((inline for inline in inlines if inline.model is source.model), None)
            read_only = set(inline.get_readonly_fields(request, obj)) if inline else set()
        # A language's column is read-only with its field (``name_ko`` with ``name``).
        return {
            f.name
            for f in compared_fields(source.model)
            if not {f.name, getattr(getattr(f, "translated_field", None), "name", "")} & read_only
        }

    def content_changes_view(self, request, object_id):
        obj = self._object_in_reach(request, object_id)
        sources = history_sources(self)
        restorable = {source.key: self.restorable_fields(request, obj, source) for source in sources}
        page = Paginator(change_entries(sources, obj.pk), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Changes to %(object)s") % {"object": obj},
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "entries": build_entries(sources, list(page), obj, restorable),
            "page_obj": page,
            "restore_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changes_restore", args=[obj.pk]
            ),
        }
        return TemplateResponse(request, "admin/content_changes.html", context)

    def content_changes_restore_view(self, request, object_id):
        obj = self._object_in_reach(request, object_id, to_change=True)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = RestoreForm(request.POST, sources=history_sources(self))
        if not form.is_valid():
            return HttpResponseBadRequest()
        restorable = self.restorable_fields(request, obj, form.source)
        if not restorable:
            raise Http404
        changes_url = self._changes_url(obj)
        if form.cleaned_data["page"]:
            changes_url += f"?page={form.cleaned_data['page']}"
        try:
            with transaction.atomic():
                row, model_field = restore_earlier_value(
                    form.source,
                    obj.pk,
                    form.cleaned_data["record"],
                    form.cleaned_data["field"],
                    restorable,
                    check=lambda row: self.check_restored(request, obj, row),
                )
                obj.refresh_from_db()
                self.content_restored(request, obj)
        except NothingToRestore:
            raise Http404 from None
        except RestoreRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(changes_url)
        changed = {
            "name": str(row._meta.verbose_name),
            "object": str(row),
            "fields": [str(model_field.verbose_name)],
        }
        self.log_change(request, obj, [{"changed": changed}])
        self.message_user(
            request,
            _("The earlier value of “%(field)s” (%(row)s) was restored.")
            % {"field": model_field.verbose_name, "row": row},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(changes_url)

    def check_restored(self, request, obj, row):
        """Raise ValidationError when the row, its earlier value restored, breaks a rule the admin's
        forms keep (the model's own rules are checked already)."""

    def content_restored(self, request, obj):
        """What else follows restoring a field of the object or of one of its rows (nothing here)."""

    def _changes_url(self, obj):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changes", args=[obj.pk])
