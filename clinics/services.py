from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from itertools import islice

from django.db import transaction
from django.db.models import QuerySet

from clinics.deferred import RebuiltAtCommit
from clinics.models import Clinic, ClinicTreatment, clinic_search_texts
from conditions.models import Condition

UPDATE_BATCH_SIZE = 50


@transaction.atomic
def clinics_refresh_search_text(*, clinics: QuerySet[Clinic], batch_size: int = 500) -> int:
    """Rebuild the search text of these clinics (a queryset), a batch at a time, in a fixed number of
    queries per batch. Returns how many were rebuilt."""
    rows = (
        clinics.order_by("pk").prefetch_related("treatments", "specialties").iterator(chunk_size=batch_size)
    )
    count = 0
    while batch := list(islice(rows, batch_size)):
        treated = _conditions_treated([clinic.pk for clinic in batch])
        for clinic in batch:
            clinic.search_text, clinic.search_names = clinic_search_texts(clinic, treated[clinic.pk])
        # Long texts, each indexed by trigrams on PostgreSQL: small UPDATE statements stay well inside
        # the statement timeout.
        Clinic.objects.bulk_update(batch, ["search_text", "search_names"], batch_size=UPDATE_BATCH_SIZE)
        count += len(batch)
    return count


clinics_refresh_search_text_on_commit = RebuiltAtCommit(
    lambda clinic_ids: clinics_refresh_search_text(clinics=Clinic.objects.filter(pk__in=clinic_ids)),
    task="clinics.tasks.refresh_clinic_search_texts",
)
"""Rebuild these clinics' search text (``clinic_ids=``) when the current transaction commits."""


def clinics_rebuild_search_text(*, batch_size: int = 500) -> int:
    """Rebuild every clinic's search text (bulk imports skip ``save()``). Returns how many were rebuilt."""
    return clinics_refresh_search_text(clinics=Clinic.objects.all(), batch_size=batch_size)


def _conditions_treated(clinic_ids: Collection[int]) -> defaultdict[int, list[Condition]]:
    """{clinic id: the published conditions it treats}, in three queries.

    The rule of ``ClinicQuerySet.treating``: the clinic offers one of the condition's treatments that
    is a clinical service, or practises one of its specialties.
    """
    pairs = set(
        ClinicTreatment.objects.filter(
            clinic_id__in=clinic_ids,
            treatment__is_clinical_service=True,
            treatment__condition_links__condition__published_at__isnull=False,
        ).values_list("clinic_id", "treatment__condition_links__condition")
    )
    pairs |= set(
        Clinic.specialties.through.objects.filter(
            clinic_id__in=clinic_ids, specialty__conditions__published_at__isnull=False
        ).values_list("clinic_id", "specialty__conditions")
    )
    conditions = Condition.objects.in_bulk({condition_id for _clinic_id, condition_id in pairs})
    treated: defaultdict[int, list[Condition]] = defaultdict(list)
    for clinic_id, condition_id in sorted(pairs):
        treated[clinic_id].append(conditions[condition_id])
    return treated
