"""The request form on condition and clinic pages (``settings.CONDITION_PAGE_PANELS`` and
``settings.CLINIC_PAGE_PANELS``)."""

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from clinic_portal.panels import Panel
from clinics.matching import matching_clinics
from clinics.models import Clinic
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
        clinics = Clinic.objects.filter(pk=clinic.pk)
    else:
        # The same list as the matching-clinics panel's, computed once for the request.
        _filters, shown = matching_clinics(request, condition)
        clinics = Clinic.objects.filter(pk__in=[shown_clinic.pk for shown_clinic in shown]).order_by_name()
    return {
        "template": "inquiries/panels/request_form.html",
        "anchor": "consultation",
        "title": gettext("Request a consultation"),
        "form": InquiryForm(initial=initial, condition=condition, clinics=clinics),
    }
