"""Which translations of the reader-facing texts are missing, and which are older than the English
text they translate (from the change history), so that editors know what to translate next.

A text is *missing* in a language when its English version has text and that language has none. It
is *outdated* when the English version changed after that language's text last changed. When the
changes were made is read from the simple-history records, which hold every language's column: the
first record of an object is its baseline, then each record that changes a column dates that column.
An object without records (created before the history was kept, or created in bulk) is of unknown
age: only its missing texts are counted.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from clinics.models import Clinic, ClinicPhoto, ClinicTreatment, Doctor
from conditions.models import (
    REVIEWED_CONDITION_TEXT,
    REVIEWED_ITEM_TEXT,
    REVIEWED_TREATMENT_NOTE,
    Condition,
    ConditionItem,
    ConditionTreatment,
    Specialty,
    Treatment,
)

ENGLISH = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
MISSING = "missing"
OUTDATED = "outdated"


def translated_languages():
    """(code, name) of every language translated from English."""
    return [(code, name) for code, name in settings.LANGUAGES if code != ENGLISH]


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


@dataclass(frozen=True)
class Entries:
    """Rows of another model counted within their owner's row (a condition's list entries)."""

    model: type
    owner: str  # the foreign key to the owner
    fields: tuple
    describe: Callable  # (entry) → how the details name it
    link: Callable | None = None  # (entry, user) → where it is translated, if not on its owner's page
    select_related: tuple = ()

    def of(self, owner_ids):
        return (
            self.model.objects.filter(**{f"{self.owner}__in": owner_ids})
            .select_related(*self.select_related)
            .order_by(f"{self.owner}_id", *self.model._meta.ordering)
        )

    def history_of(self, owner_ids):
        return self.model.history.model.objects.filter(**{f"{self.owner}_id__in": owner_ids})


@dataclass(frozen=True)
class Kind:
    """A kind of object on the page: its own translated texts and those of its entries."""

    slug: str
    label: str | Promise  # translated when shown
    model: type
    fields: tuple
    may_see: Callable  # (user) → bool
    entries: tuple = ()

    def objects(self):
        return self.model.objects.order_by(build_localized_fieldname("name", ENGLISH), "pk")


def _item_link(item, user):
    if user.has_perm("conditions.view_conditionitem") or user.has_perm("conditions.change_conditionitem"):
        return reverse("admin:conditions_condition_items", args=[item.condition_id, item.section])
    return reverse("admin:conditions_condition_change", args=[item.condition_id])


def _item_name(item):
    return f"{item.get_section_display()}: {Truncator(item.title or item.text).chars(60)}"


def _writes_medical_content(permission):
    """Those who write the medical content, and the medical reviewers who check its translations."""
    return lambda user: user.has_perm(permission) or user.has_perm("conditions.review_translation")


KINDS = (
    Kind(
        slug="conditions",
        label=_("Conditions"),
        model=Condition,
        fields=REVIEWED_CONDITION_TEXT,
        may_see=_writes_medical_content("conditions.change_condition"),
        entries=(
            Entries(ConditionItem, "condition", REVIEWED_ITEM_TEXT, _item_name, link=_item_link),
            Entries(
                ConditionTreatment,
                "condition",
                REVIEWED_TREATMENT_NOTE,
                lambda link: link.treatment.name,
                select_related=("treatment",),
            ),
        ),
    ),
    Kind(
        slug="treatments",
        label=_("Treatments"),
        model=Treatment,
        fields=("name", "description", "synonyms"),
        may_see=_writes_medical_content("conditions.change_treatment"),
    ),
    Kind(
        slug="specialties",
        label=_("Specialties"),
        model=Specialty,
        fields=("name", "description"),
        may_see=_writes_medical_content("conditions.change_specialty"),
    ),
    Kind(
        slug="clinics",
        label=_("Clinics"),
        model=Clinic,
        fields=("name", "district", "description"),
        may_see=lambda user: user.has_perm("clinics.change_clinic"),
        entries=(
            Entries(
                Doctor, "clinic", ("name", "title", "training", "board_certification", "photo_alt_text"), str
            ),
            Entries(ClinicPhoto, "clinic", ("alt_text",), lambda photo: photo.get_subject_display()),
            Entries(
                ClinicTreatment,
                "clinic",
                ("note",),
                lambda offer: offer.treatment.name,
                select_related=("treatment",),
            ),
        ),
    ),
)


def kinds_for(user):
    """The kinds of objects whose translations this user may look at."""
    return [kind for kind in KINDS if kind.may_see(user)]


@dataclass(frozen=True)
class Text:
    """One translated field of an object or of one of its entries, in every language."""

    entry: str  # "" for the object's own fields
    label: str  # the field's verbose name
    url: str
    values: dict  # {language: text}
    changes: dict | None  # {language: (order, date)} of the column's last change; None without history


@dataclass(frozen=True)
class Finding:
    text: Text
    state: str  # MISSING or OUTDATED
    english_changed: object = None
    translation_changed: object = None

    @property
    def is_missing(self):
        return self.state == MISSING


@dataclass
class LanguageStatus:
    code: str
    name: str
    findings: list = field(default_factory=list)

    @property
    def missing_count(self):
        return sum(finding.is_missing for finding in self.findings)

    @property
    def outdated_count(self):
        return len(self.findings) - self.missing_count

    @property
    def is_complete(self):
        return not self.findings


@dataclass
class ObjectStatus:
    obj: object
    url: str
    languages: list
    undated: bool  # some of its texts have no history: only their missing translations are counted


def last_changes(records, columns):
    """{object id: {column: (order, date)}} of the last change of each column, from history records
    ordered by object, date and record id. The first record of an object dates every column."""
    changes, previous = {}, {}
    for order, record in enumerate(records):
        object_id = record["id"]
        before = previous.get(object_id)
        marks = changes.setdefault(object_id, {})
        for column in columns:
            if before is None or (record[column] or "") != (before[column] or ""):
                marks[column] = (order, record["history_date"])
        previous[object_id] = record
    return changes


def _history(queryset, columns):
    """The records' columns in date order (one query)."""
    return last_changes(
        queryset.order_by("id", "history_date", "history_id")
        .values("id", "history_date", *columns)
        .iterator(),
        columns,
    )


def _columns(fields, codes):
    """{field: {language: column}}"""
    return {name: {code: build_localized_fieldname(name, code) for code in codes} for name in fields}


def _flat(columns):
    return [column for by_language in columns.values() for column in by_language.values()]


def _texts(obj, columns, changes, *, entry, url):
    marks = changes.get(obj.pk)
    return [
        Text(
            entry=entry,
            label=obj._meta.get_field(name).verbose_name,
            url=url,
            values={code: getattr(obj, column) or "" for code, column in by_language.items()},
            changes=None if marks is None else {code: marks[column] for code, column in by_language.items()},
        )
        for name, by_language in columns.items()
    ]


def findings(texts, code):
    """What is missing or outdated in this language among these texts."""
    found = []
    for text in texts:
        english, translated = text.values[ENGLISH], text.values[code]
        if not english.strip():
            continue
        if not translated.strip():
            found.append(Finding(text, MISSING))
        elif text.changes is not None and text.changes[ENGLISH] > text.changes[code]:
            found.append(Finding(text, OUTDATED, text.changes[ENGLISH][1], text.changes[code][1]))
    return found


def statuses(kind, objects, languages, user):
    """The status of each object (and its entries) in each of these languages, as (code, name) pairs.

    A fixed number of queries, whatever the number of objects: one for the objects' history, and two
    for each kind of entry (the entries and their history).
    """
    codes = [ENGLISH, *(code for code, _name in languages)]
    owners = {obj.pk: obj for obj in objects}
    texts = {obj.pk: [] for obj in objects}
    columns = _columns(kind.fields, codes)
    changes = _history(kind.model.history.model.objects.filter(id__in=list(owners)), _flat(columns))
    for obj in objects:
        texts[obj.pk] += _texts(obj, columns, changes, entry="", url=change_url(obj))
    for entries in kind.entries:
        entry_columns = _columns(entries.fields, codes)
        entry_changes = _history(entries.history_of(list(owners)), _flat(entry_columns))
        for entry in entries.of(list(owners)):
            owner_id = getattr(entry, f"{entries.owner}_id")
            texts[owner_id] += _texts(
                entry,
                entry_columns,
                entry_changes,
                entry=entries.describe(entry),
                url=entries.link(entry, user) if entries.link else change_url(owners[owner_id]),
            )
    return [
        ObjectStatus(
            obj=obj,
            url=change_url(obj),
            languages=[LanguageStatus(code, name, findings(texts[obj.pk], code)) for code, name in languages],
            undated=any(text.changes is None for text in texts[obj.pk]),
        )
        for obj in objects
    ]
