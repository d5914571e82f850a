"""Which clinics a coordinator may share an inquiry with: the patient's chosen clinics first, then the
best matches for the inquiry's condition, leaving out those that have the case already."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from clinics.models import Clinic

BEST_MATCHES = 8  # enough to choose two or three from, short enough to read


@dataclass
class Candidate:
    clinic: Clinic
    chosen_by_patient: bool
    # Why it cannot be chosen; empty when it can.
    problem: str = ""
    ticked: bool = False


def _problem(clinic):
    if not clinic.contact_email:
        return _("No email for shared cases: add one to the clinic in the admin first.")
    return ""


def share_candidates(inquiry):
    """Candidates in the order they are offered (three queries, more with the condition's matches)."""
    shared = list(inquiry.referrals.values_list("clinic_id", flat=True))
    chosen = list(inquiry.preferred_clinics.exclude(pk__in=shared).order_by_name())
    matches = []
    if inquiry.condition_id:
        matches = list(
            Clinic.objects.published()
            .for_condition(inquiry.condition, language=inquiry.language)
            .exclude(pk__in=[*shared, *(clinic.pk for clinic in chosen)])[:BEST_MATCHES]
        )
    return [
        *(Candidate(clinic, chosen_by_patient=True, problem=_problem(clinic)) for clinic in chosen),
        *(Candidate(clinic, chosen_by_patient=False, problem=_problem(clinic)) for clinic in matches),
    ]
