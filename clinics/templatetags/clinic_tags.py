from django import template
from django.utils.translation import get_language

from clinics.forms import MatchingClinicFilterForm
from clinics.matching import match_reasons
from clinics.models import Clinic

register = template.Library()

MATCHING_CLINICS_SHOWN = 10


@register.inclusion_tag("clinics/panels/matching_clinics_list.html", takes_context=True)
def matching_clinics(context, condition):
    """The clinics that match a condition, filtered by the city and language in the page's query string."""
    request = context["request"]
    language = get_language()
    form = MatchingClinicFilterForm(request.GET or None)
    clinics = Clinic.objects.published().for_condition(condition, language=language)
    if form.is_valid():
        clinics = form.filter(clinics)
    clinics = list(clinics[:MATCHING_CLINICS_SHOWN])
    return {
        "request": request,
        "condition": condition,
        "form": form,
        "matches": [(clinic, match_reasons(clinic, language)) for clinic in clinics],
    }
