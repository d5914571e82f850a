"""Plain-words reasons why a clinic matches a condition, for the clinic cards on a condition page."""

from django.utils.translation import get_language, get_language_info, gettext, pgettext

from clinics.forms import MatchingClinicFilterForm
from clinics.models import Clinic

MATCHING_CLINICS_SHOWN = 10


def human_join(items):
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    separator = pgettext("list separator", ", ")
    return gettext("%(items)s and %(last)s") % {"items": separator.join(items[:-1]), "last": items[-1]}


def match_reasons(clinic, language):
    """Reasons for a clinic annotated by ``ClinicQuerySet.for_condition``, most important first."""
    reasons = []
    treatments = [link.treatment.name for link in clinic.matched_treatments]
    if treatments:
        reasons.append(gettext("Offers %(treatments)s") % {"treatments": human_join(treatments)})
    reasons.extend(specialty.name for specialty in clinic.matched_specialties)
    roles = clinic.roles_speaking(language)
    if roles:
        reasons.append(
            gettext("%(language)s: %(roles)s")
            % {"language": get_language_info(language)["name_translated"], "roles": human_join(roles)}
        )
    return reasons


def matching_clinics(request, condition):
    """The clinics listed on a condition page, filtered by the page's city and language query.

    Returns (filter form, clinics). Memoized on the request: the list and the request form on the
    same page use it, and ranking every clinic is the costly query of the page.
    """
    language = get_language()
    memo = request.__dict__.setdefault("_matching_clinics", {})
    key = (condition.pk, language, request.GET.get("city"), request.GET.get("language"))
    if key not in memo:
        form = MatchingClinicFilterForm(request.GET or None)
        clinics = Clinic.objects.published().for_condition(condition, language=language)
        if form.is_valid():
            clinics = form.filter(clinics)
        memo[key] = (form, list(clinics[:MATCHING_CLINICS_SHOWN]))
    return memo[key]
