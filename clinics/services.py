from django.db import transaction

from clinics.models import Clinic, clinic_search_text


def clinic_refresh_search_text(*, clinic):
    """Rebuild one clinic's search text; call after its names, treatments or specialties change."""
    clinic.search_text = clinic_search_text(clinic)
    Clinic.objects.filter(pk=clinic.pk).update(search_text=clinic.search_text)


@transaction.atomic
def clinics_rebuild_search_text(*, batch_size=500):
    """Rebuild every clinic's search text (bulk imports skip ``save()``). Returns how many were rebuilt."""
    clinics = Clinic.objects.prefetch_related("treatments", "specialties").order_by("pk")
    changed = []
    for clinic in clinics.iterator(chunk_size=batch_size):
        clinic.search_text = clinic_search_text(clinic)
        changed.append(clinic)
        if len(changed) >= batch_size:
            Clinic.objects.bulk_update(changed, ["search_text"])
            changed = []
    Clinic.objects.bulk_update(changed, ["search_text"])
    return clinics.count()
