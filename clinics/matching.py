"""Plain-words reasons why a clinic matches a condition, for the clinic cards on a condition page."""

from django.utils.translation import get_language_info, gettext, pgettext


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
