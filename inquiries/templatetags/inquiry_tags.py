import uuid

from django import template

from clinics.matching import matching_clinics
from clinics.models import Clinic
from inquiries.forms import InquiryForm

register = template.Library()


@register.inclusion_tag("inquiries/_request_form.html", takes_context=True)
def inquiry_request_form(context):
    """The request form for a condition page (its matching clinics offered) or a clinic page (preselected)."""
    condition = context.get("condition")
    clinic = context.get("clinic")
    initial = {"submission_key": uuid.uuid4()}
    clinics = None
    if clinic is not None:
        initial["preferred_clinics"] = [clinic.slug]
        clinics = Clinic.objects.filter(pk=clinic.pk)
    elif condition is not None:
        _filters, shown = matching_clinics(context["request"], condition)
        clinics = Clinic.objects.filter(pk__in=[shown_clinic.pk for shown_clinic in shown]).order_by_name()
    form = InquiryForm(initial=initial, condition=condition, clinics=clinics)
    return {"form": form, "request": context["request"], "csrf_token": context.get("csrf_token")}
