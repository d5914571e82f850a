from django.db import transaction

from clinics.models import Clinic, clinic_search_texts


def clinic_refresh_search_text(*, clinic):
    """Rebuild one clinic's search text; call after its names, treatments or specialties change."""
    clinic.search_text, clinic.search_names = clinic_search_texts(clinic)
    Clinic.objects.filter(pk=clinic.pk).update(
        search_text=clinic.search_text, search_names=clinic.search_names
    )


@transaction.atomic
def clinics_rebuild_search_text(*, batch_size=500):
    """Rebuild every clinic's search text (bulk imports skip ``save()``). Returns how many were rebuilt."""
    clinics = Clinic.objects.prefetch_related("treatments", "specialties").order_by("pk")
    changed = []
    for clinic in clinics.iterator(chunk_size=batch_size):
        clinic.search_text, clinic.search_names = clinic_search_texts(clinic)
        changed.append(clinic)
        if len(changed) >= batch_size:
            Clinic.objects.bulk_update(changed, ["search_text", "search_names"])
            changed = []
    Clinic.objects.bulk_update(changed, ["search_text", "search_names"])
    return clinics.count()
