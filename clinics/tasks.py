"""Background work of the clinics app."""

from django_tasks import task

from clinics.match_table import clinic_matches_refresh
from clinics.models import Clinic
from clinics.services import clinics_refresh_search_text


@task()
def refresh_clinic_search_texts(*, clinic_ids):
    """Rebuild these clinics' search texts (queued when one change touches many clinics)."""
    return clinics_refresh_search_text(clinics=Clinic.objects.filter(pk__in=clinic_ids))


@task()
def refresh_clinic_matches(*, clinic_ids):
    """Rebuild these clinics' rows of the match table (queued when one change touches many clinics)."""
    return clinic_matches_refresh(clinic_ids=clinic_ids)
