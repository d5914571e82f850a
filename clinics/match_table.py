"""The match table (``ClinicConditionMatch``): which clinics match which condition, with the facts of
the published ranking, one row per reader language.

What a row depends on: the clinic's name (in every language), treatments, specialties, languages and
accreditations; the condition's treatments and specialties; whether a treatment is a clinical service.
``clinics/receivers.py`` works out the clinics a change touches and calls
``clinic_matches_refresh_on_commit``: their rows are rebuilt once the transaction commits, by the task
worker when many are affected. Accreditations start and lapse by date, so ``manage.py
rebuild_clinic_matches`` rebuilds every row nightly (and after bulk loads that skip signals).

The builder takes a model registry, so that the migration creating the table fills it with the same
rules.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from modeltranslation.utils import build_localized_fieldname

from clinic_portal.page_cache import content_changed
from clinics.deferred import RebuiltAtCommit

BATCH_SIZE = 500


def clinic_matches_refresh(
    *,
    clinic_ids: Iterable[int],
    today: datetime.date | None = None,
    apps: Apps = installed_apps,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Rebuild the match rows of these clinics (ids), a batch at a time: two statements per batch, each
    batch in its own transaction (a clinic's rows are replaced at once, and statements stay short
    enough for the statement timeout). Returns how many clinics were done."""
    remaining = iter(sorted(set(clinic_ids)))
    statements = _Statements(apps, today or timezone.localdate())
    count = 0
    while batch := list(islice(remaining, batch_size)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(*statements.delete(batch))
            cursor.execute(*statements.insert(batch))
        count += len(batch)
    if count and apps is installed_apps:
        # Cached condition pages list the clinics as they matched before: serve new ones.
        content_changed()
    return count


def clinic_matches_rebuild(
    *, today: datetime.date | None = None, apps: Apps = installed_apps, batch_size: int = BATCH_SIZE
) -> int:
    """Rebuild the whole table (nightly, after bulk loads). Returns how many clinics were done.

    Rows of deleted clinics and conditions are gone with them (cascade)."""
    Clinic = apps.get_model("clinics", "Clinic")
    clinic_ids = Clinic.objects.values_list("pk", flat=True)
    return clinic_matches_refresh(clinic_ids=clinic_ids, today=today, apps=apps, batch_size=batch_size)


class _Statements:
    """The rows of a batch of clinics, built by the database in one INSERT … SELECT: a full rebuild
    writes millions of rows at a hundred thousand clinics, none of which need pass through Python.

    The rules are those of ``ClinicQuerySet.for_condition``: a clinic matches a condition on its
    clinical treatments (never on self-care advice) and its specialties; accreditations count when
    current on ``today``; the name sorted by is the reader's language's, else the English one. Plain
    SQL that SQLite and PostgreSQL both run."""

    def __init__(self, apps: Apps, today: datetime.date) -> None:
        quote = connection.ops.quote_name
        Clinic = apps.get_model("clinics", "Clinic")

        def table(app: str, model: str) -> str:
            return quote(apps.get_model(app, model)._meta.db_table)

        def column(model: Any, field: str) -> str:
            return quote(model._meta.get_field(field).column)

        self.match_table = table("clinics", "ClinicConditionMatch")
        languages = [code for code, _name in settings.LANGUAGES]
        english = column(
            Clinic, build_localized_fieldname("name", settings.MODELTRANSLATION_DEFAULT_LANGUAGE)
        )
        names = {code: column(Clinic, build_localized_fieldname("name", code)) for code in languages}
        sort_name = " ".join(
            f"WHEN %s THEN COALESCE(NULLIF(clinic.{names[code]}, ''), clinic.{english}, '')"
            for code in languages
        )
        clinic_specialties = quote(Clinic.specialties.through._meta.db_table)
        condition_specialties = quote(
            apps.get_model("conditions", "Condition").specialties.through._meta.db_table
        )
        # Only table and column names of the models are formatted in; values are parameters.
        self.template = f"""
            INSERT INTO {self.match_table} (
                condition_id, clinic_id, language, speaks_language, matched_treatment_count,
                matched_specialty_count, current_accreditation_count, sort_name
            )
            SELECT
                pairs.condition_id,
                pairs.clinic_id,
                languages.code,
                EXISTS (
                    SELECT 1 FROM {table("clinics", "ClinicLanguage")} spoken
                    WHERE spoken.clinic_id = pairs.clinic_id AND spoken.language = languages.code
                ),
                pairs.treatments,
                pairs.specialties,
                (
                    SELECT COUNT(*) FROM {table("clinics", "Accreditation")} accreditation
                    WHERE accreditation.clinic_id = pairs.clinic_id
                    AND (accreditation.valid_from IS NULL OR accreditation.valid_from <= %s)
                    AND (accreditation.valid_until IS NULL OR accreditation.valid_until >= %s)
                ),
                CASE languages.code {sort_name} END
            FROM (
                SELECT links.clinic_id, links.condition_id,
                    SUM(links.treatment) AS treatments, SUM(links.specialty) AS specialties
                FROM (
                    SELECT offered.clinic_id, linked.condition_id, 1 AS treatment, 0 AS specialty
                    FROM {table("clinics", "ClinicTreatment")} offered
                    JOIN {table("conditions", "ConditionTreatment")} linked
                        ON linked.treatment_id = offered.treatment_id
                    JOIN {table("conditions", "Treatment")} treatment ON treatment.id = offered.treatment_id
                    WHERE treatment.is_clinical_service = %s AND offered.clinic_id IN ({{clinics}})
                    UNION ALL
                    SELECT practised.clinic_id, relevant.condition_id, 0, 1
                    FROM {clinic_specialties} practised
                    JOIN {condition_specialties} relevant
                        ON relevant.specialty_id = practised.specialty_id
                    WHERE practised.clinic_id IN ({{clinics}})
                ) links
                GROUP BY links.clinic_id, links.condition_id
            ) pairs
            JOIN {table("clinics", "Clinic")} clinic ON clinic.id = pairs.clinic_id
            CROSS JOIN ({" UNION ALL ".join("SELECT %s AS code" for _code in languages)}) languages
        """  # noqa: S608
        self.languages = languages
        self.today = today

    def delete(self, clinic_ids: Sequence[int]) -> tuple[str, list[Any]]:
        placeholders = ", ".join(["%s"] * len(clinic_ids))
        statement = f"DELETE FROM {self.match_table} WHERE clinic_id IN ({placeholders})"  # noqa: S608
        return statement, list(clinic_ids)

    def insert(self, clinic_ids: Sequence[int]) -> tuple[str, list[Any]]:
        placeholders = ", ".join(["%s"] * len(clinic_ids))
        # Parameters in the order their placeholders appear in the statement.
        params = [
            self.today,
            self.today,
            *self.languages,
            True,
            *clinic_ids,
            *clinic_ids,
            *self.languages,
        ]
        return self.template.replace("{clinics}", placeholders), params


clinic_matches_refresh_on_commit = RebuiltAtCommit(
    lambda clinic_ids: clinic_matches_refresh(clinic_ids=clinic_ids),
    task="clinics.tasks.refresh_clinic_matches",
)
"""Rebuild these clinics' match rows (``clinic_ids=``) when the current transaction commits: each
clinic once, however many changes a transaction makes (an admin save with its inlines, an import)."""
