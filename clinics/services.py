import threading
from collections import defaultdict
from itertools import islice

from django.db import transaction

from clinics.models import Clinic, ClinicTreatment, clinic_search_texts
from conditions.models import Condition

UPDATE_BATCH_SIZE = 50
# A change touching more clinics than this (a treatment offered everywhere renamed, an import) has
# their search texts rebuilt by the task worker, not within the request.
BACKGROUND_REFRESH_THRESHOLD = 50


@transaction.atomic
def clinics_refresh_search_text(*, clinics, batch_size=500):
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


_pending = threading.local()


def clinics_refresh_search_text_on_commit(*, clinic_ids):
    """Rebuild these clinics' search text when the current transaction commits (at once outside one).

    However many changes a transaction makes (an admin save with its inlines, a demo reload), each
    clinic is rebuilt once. Ids left by a rolled-back transaction are rebuilt at the next commit of the
    thread, which is harmless: a rebuild reads the database as it is.
    """
    if clinic_ids:
        _pending.__dict__.setdefault("clinic_ids", set()).update(clinic_ids)
        transaction.on_commit(_refresh_pending)


def _refresh_pending():
    clinic_ids = _pending.__dict__.pop("clinic_ids", None)
    if not clinic_ids:
        return
    if len(clinic_ids) > BACKGROUND_REFRESH_THRESHOLD:
        from clinics.tasks import refresh_clinic_search_texts

        refresh_clinic_search_texts.enqueue(clinic_ids=sorted(clinic_ids))
    else:
        clinics_refresh_search_text(clinics=Clinic.objects.filter(pk__in=clinic_ids))


def clinics_rebuild_search_text(*, batch_size=500):
    """Rebuild every clinic's search text (bulk imports skip ``save()``). Returns how many were rebuilt."""
    return clinics_refresh_search_text(clinics=Clinic.objects.all(), batch_size=batch_size)


def _conditions_treated(clinic_ids):
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
    treated = defaultdict(list)
    for clinic_id, condition_id in sorted(pairs):
        treated[clinic_id].append(conditions[condition_id])
    return treated
