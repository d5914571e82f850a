from django import template
from django.utils.translation import get_language

from clinics.matching import clinic_match, matching_clinics

register = template.Library()


@register.inclusion_tag("clinics/panels/matching_clinics_list.html", takes_context=True)
def matching_clinics_panel(context, condition):
    """The clinics that match a condition, filtered by the city and language in the page's query string."""
    request = context["request"]
    form, clinics = matching_clinics(request, condition)
    language = get_language()
    return {
        "request": request,
        "condition": condition,
        "form": form,
        "matches": [clinic_match(clinic, condition, language) for clinic in clinics],
    }
