"""The clinic's answer page: reached with no account, through the private, expiring link it was emailed.

Everything on it hangs off the one referral the link opens: that inquiry, the files ticked for that
clinic, that clinic's own answer. An unknown, expired or revoked link answers 404.
"""

from uuid import UUID

from django.contrib import messages
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from clinic_portal.decorators import resendable_after_outage
from inquiries import limits
from inquiries.limits import REPLIES_PER_ADDRESS, post_ceiling
from inquiries.models import InquiryStatus
from inquiries.views import _download, inquiry_for_token, patient_data_page, render_follow_up
from referrals.forms import ClinicAnswerForm, OfferChoice, OfferResponseForm
from referrals.models import ClinicAnswer, Referral
from referrals.offers import offer_prefix, published_answers
from referrals.services import (
    AnswerAlreadyPublished,
    ReferralClosed,
    answer_submit,
    offer_respond,
    record_clinic_action,
    referral_for_token,
)
from staff.models import AuditAction


def _referral_or_404(token: str) -> Referral:
    referral = referral_for_token(token)
    if referral is None or referral.inquiry.anonymised_at is not None:
        raise Http404
    return referral


@patient_data_page
@require_http_methods(["GET", "POST"])
def case(request: HttpRequest, token: str) -> HttpResponse:
    referral = _referral_or_404(token)
    answer = ClinicAnswer.objects.filter(referral=referral).first()
    if request.method != "POST":
        return _render_case(request, referral, answer)
    if answer is not None and answer.is_published:
        return _answer_refused(request, referral, answer)
    form = ClinicAnswerForm(request.POST, referral=referral, instance=answer)
    if not form.is_valid():
        return _render_case(request, referral, answer, form=form, status=400)
    try:
        answer_submit(referral=referral, data=form.answer_data(), request=request)
    except ReferralClosed:
        raise Http404 from None
    except AnswerAlreadyPublished:
        return _answer_refused(request, referral, ClinicAnswer.objects.get(referral=referral))
    if answer is None:
        messages.success(request, gettext("Thank you: your answer has been sent to our coordinators."))
    else:
        messages.success(
            request, gettext("Thank you: your revised answer has been sent to our coordinators.")
        )
    return redirect(request.path + "#answer")


def _answer_refused(request: HttpRequest, referral: Referral, answer: ClinicAnswer) -> HttpResponse:
    messages.error(
        request,
        gettext("Your answer has already been passed on to the patient, so it can no longer be changed."),
    )
    return _render_case(request, referral, answer, status=409)


def _render_case(
    request: HttpRequest,
    referral: Referral,
    answer: ClinicAnswer | None,
    *,
    form: ClinicAnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    record_clinic_action(AuditAction.CLINIC_VIEW, referral=referral, request=request)
    if form is None and not (answer and answer.is_published):
        form = ClinicAnswerForm(referral=referral, instance=answer)
    context = {
        "referral": referral,
        "inquiry": referral.inquiry,
        "clinic": referral.clinic,
        "token": request.resolver_match.kwargs["token"],  # type: ignore[union-attr]  # a resolved URL
        "attachments": referral.attachments.filter(inquiry=referral.inquiry),
        "answer": answer,
        "form": form,
    }
    return render(request, "referrals/case.html", context, status=status)


@patient_data_page
def case_file(request: HttpRequest, token: str, attachment_id: UUID) -> FileResponse:
    referral = _referral_or_404(token)
    attachment = get_object_or_404(referral.attachments.filter(inquiry=referral.inquiry), pk=attachment_id)
    # The inquiry is the object: a file's name may itself say something about the patient's health.
    record_clinic_action(
        AuditAction.CLINIC_DOWNLOAD, referral=referral, request=request, note=f"file {attachment.pk}"
    )
    return _download(attachment)


@resendable_after_outage
@patient_data_page
@post_ceiling("follow-up-post")
@require_POST
def follow_up_offer(request: HttpRequest, reference: str, token: str, answer_id: int) -> HttpResponse:
    """The patient prefers one clinic's offer, or asks about it."""
    inquiry = inquiry_for_token(reference, token)
    answer = get_object_or_404(published_answers(inquiry), pk=answer_id)
    follow_up_path = reverse("inquiries:follow_up", kwargs={"reference": reference, "token": token})
    if inquiry.status == InquiryStatus.CLOSED:
        return redirect(follow_up_path)
    if retry_after := limits.first_reached(request, REPLIES_PER_ADDRESS):
        return limits.too_many_requests(request, retry_after)
    form = OfferResponseForm(request.POST, prefix=offer_prefix(answer))
    if not form.is_valid():
        return render_follow_up(request, inquiry, token, panel_state={"offer_form": form}, status=400)
    try:
        offer_respond(
            inquiry=inquiry,
            answer=answer,
            prefers=form.cleaned_data["choice"] == OfferChoice.PREFER,
            message=form.cleaned_data["message"],
            submission_key=form.cleaned_data["submission_key"],
        )
    except IntegrityError:
        pass  # the same form sent twice at once: the first one was stored
    else:
        limits.count(request, REPLIES_PER_ADDRESS)
    messages.success(request, gettext("Your coordinator has your message about this offer."))
    return redirect(follow_up_path + "#timeline")
