"""The matching-clinics panel of a condition page (``settings.CONDITION_PAGE_PANELS``)."""

from django.http import HttpRequest
from django.utils.translation import get_language, gettext

from clinic_portal.panels import Panel, reads_query
from clinics.forms import MatchingClinicFilterForm
from clinics.matching import clinic_match, matching_clinics
from conditions.models import Condition


@reads_query(*MatchingClinicFilterForm.base_fields)
def matching_clinics_panel(request: HttpRequest, condition: Condition) -> Panel:
    """The clinics that match a condition, filtered by the city and language in the page's query string,
    each with the reasons it matches."""
    form, clinics = matching_clinics(request, condition)
    language = get_language()
    return {
        "template": "clinics/panels/matching_clinics.html",
        "anchor": "clinics",
        "title": gettext("Clinics in Korea"),
        "form": form,
        "matches": [clinic_match(clinic, condition, language) for clinic in clinics],
    }
