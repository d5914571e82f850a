"""The request form on condition and clinic pages (``settings.CONDITION_PAGE_PANELS`` and
``settings.CLINIC_PAGE_PANELS``), and the way to it from a comparison of clinics
(``settings.COMPARISON_PAGE_PANELS``)."""

import uuid
from typing import Any

from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.translation import gettext

from clinic_portal.panels import Panel
from clinics.comparison import Comparison
from clinics.matching import matching_clinics
from clinics.models import Clinic, sorted_by_name
from conditions.models import Condition
from inquiries.forms import InquiryForm


def request_form_panel(request: HttpRequest, page_object: Condition | Clinic) -> Panel:
    """The request form: on a condition page it offers the matching clinics listed on the page, on a
    clinic page that clinic, chosen."""
    condition = page_object if isinstance(page_object, Condition) else None
    clinic = page_object if isinstance(page_object, Clinic) else None
    initial: dict[str, Any] = {"submission_key": uuid.uuid4()}
    if clinic is not None:
        initial["preferred_clinics"] = [clinic.slug]
        clinics = [clinic]
    else:
        # The same clinics as the matching-clinics panel's, computed once for the request and not
        # asked of the database again.
        _filters, shown = matching_clinics(request, condition)
        clinics = sorted_by_name(shown)
    return {
        "template": "inquiries/panels/request_form.html",
        "anchor": "consultation",
        "title": gettext("Request a consultation"),
        "form": InquiryForm(initial=initial, condition=condition, clinics=clinics),
    }


def comparison_request_link_panel(request: HttpRequest, comparison: Comparison) -> Panel:
    """A link to the request form with the compared clinics (and the condition) chosen."""
    query = QueryDict(mutable=True)
    query.setlist("clinic", [column.clinic.slug for column in comparison.clinics])
    if comparison.condition is not None:
        query["condition"] = comparison.condition.slug
    return {
        "template": "inquiries/panels/comparison_request_link.html",
        "url": f"{reverse('inquiries:create')}?{query.urlencode()}",
    }
