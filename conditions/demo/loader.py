"""Demo content for the medical-knowledge app: specialties, treatments and condition pages.

English text and structure live in ``catalogue.json`` and ``conditions.json``; every other language is
a flat ``i18n/<language>.json`` map from a stable key (see ``english_strings``) to its translation.
Loading is idempotent: rows are found by slug and updated.
"""

import datetime
import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from modeltranslation.utils import build_localized_fieldname
from simple_history.utils import bulk_create_with_history

from conditions.models import (
    Condition,
    ConditionItem,
    ConditionStatus,
    ConditionTreatment,
    Reference,
    Specialty,
    Treatment,
)
from conditions.translation import ConditionTranslationOptions

DEMO_DIR = Path(__file__).resolve().parent
CONDITION_TEXT_FIELDS = ConditionTranslationOptions.fields


def _read(name):
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


def read_translations(demo_dir):
    """{language: {key: text}} from ``demo_dir/i18n/<language>.json``, for every language with a file."""
    result = {}
    for code, _name in settings.LANGUAGES:
        path = demo_dir / "i18n" / f"{code}.json"
        if path.exists():
            result[code] = json.loads(path.read_text(encoding="utf-8"))
    return result


def translations():
    return read_translations(DEMO_DIR)


def english_strings():
    """{key: English text} for every translatable string of the demo content."""
    catalogue = _read("catalogue.json")
    strings = {}
    for kind, rows in (("specialty", catalogue["specialties"]), ("treatment", catalogue["treatments"])):
        for row in rows:
            for field in ("name", "description", "synonyms"):
                if row.get(field):
                    strings[f"{kind}.{row['slug']}.{field}"] = row[field]
    for condition in _read("conditions.json"):
        prefix = f"condition.{condition['slug']}"
        for field, value in condition["text"].items():
            strings[f"{prefix}.{field}"] = value
        for section, entries in condition["items"].items():
            for number, entry in enumerate(entries, start=1):
                for field in ("title", "text"):
                    if entry.get(field):
                        strings[f"{prefix}.{section}.{number}.{field}"] = entry[field]
        for link in condition["treatments"]:
            if link["note"]:
                strings[f"{prefix}.treatment.{link['treatment']}.note"] = link["note"]
    return strings


def localized_values(key, english, field, translated):
    """Keyword arguments setting ``field`` in English and in every language that has ``key``."""
    values = {build_localized_fieldname(field, settings.LANGUAGE_CODE): english}
    for code, strings in translated.items():
        if code != settings.LANGUAGE_CODE:
            values[build_localized_fieldname(field, code)] = strings.get(key, "")
    return values


def create_with_history(model, objects):
    """Create the rows at once, each with its first entry in the change history."""
    return bulk_create_with_history(list(objects), model)


@transaction.atomic
def load():
    catalogue = _read("catalogue.json")
    translated = translations()

    specialties = {}
    for row in catalogue["specialties"]:
        defaults = {"schema_org_specialty": row.get("schema_org_specialty", "")}
        for field in ("name", "description"):
            defaults.update(
                localized_values(f"specialty.{row['slug']}.{field}", row[field], field, translated)
            )
        specialties[row["slug"]], _created = Specialty.objects.update_or_create(
            slug=row["slug"], defaults=defaults
        )

    treatments = {}
    for row in catalogue["treatments"]:
        defaults = {"category": row["category"], "is_clinical_service": row["clinical_service"]}
        for field in ("name", "description", "synonyms"):
            defaults.update(
                localized_values(f"treatment.{row['slug']}.{field}", row.get(field, ""), field, translated)
            )
        treatments[row["slug"]], _created = Treatment.objects.update_or_create(
            slug=row["slug"], defaults=defaults
        )

    conditions = _read("conditions.json")
    for data in conditions:
        _load_condition(data, specialties, treatments, translated)
    return f"{len(specialties)} specialties, {len(treatments)} treatments, {len(conditions)} conditions"


def _load_condition(data, specialties, treatments, translated):
    prefix = f"condition.{data['slug']}"
    defaults = {
        "status": data["status"],
        "schema_type": data["schema_type"],
        "last_reviewed": datetime.date.fromisoformat(data["last_reviewed"]),
        "next_review_due": datetime.date.fromisoformat(data["next_review_due"]),
    }
    for field in CONDITION_TEXT_FIELDS:
        defaults.update(localized_values(f"{prefix}.{field}", data["text"].get(field, ""), field, translated))
    if data["status"] == ConditionStatus.PUBLISHED:
        problems = Condition(slug=data["slug"], **defaults).publication_problems()
        if problems:
            raise ValidationError(f"Demo condition {data['slug']}: {' '.join(map(str, problems.values()))}")
    condition, _created = Condition.objects.update_or_create(slug=data["slug"], defaults=defaults)
    condition.specialties.set([specialties[slug] for slug in data["specialties"]])

    condition.items.all().delete()
    items = []
    for section, entries in data["items"].items():
        for number, entry in enumerate(entries, start=1):
            values = {}
            for field in ("title", "text"):
                values.update(
                    localized_values(
                        f"{prefix}.{section}.{number}.{field}", entry.get(field, ""), field, translated
                    )
                )
            items.append(
                ConditionItem(
                    condition=condition,
                    section=section,
                    position=number,
                    is_urgent=entry.get("urgent", False),
                    **values,
                )
            )
    create_with_history(ConditionItem, items)

    condition.condition_treatments.all().delete()
    create_with_history(
        ConditionTreatment,
        [
            ConditionTreatment(
                condition=condition,
                treatment=treatments[link["treatment"]],
                position=position,
                **localized_values(
                    f"{prefix}.treatment.{link['treatment']}.note", link["note"], "note", translated
                ),
            )
            for position, link in enumerate(data["treatments"], start=1)
        ],
    )

    condition.references.all().delete()
    create_with_history(
        Reference,
        [
            Reference(condition=condition, citation=citation, position=position)
            for position, citation in enumerate(data["references"], start=1)
        ],
    )
    return condition
