import uuid
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from clinic_portal.decorators import private_page, resendable_after_outage
from conditions.models import Condition
from inquiries import limits
from inquiries.forms import (
    CONSENT_HEALTH_DATA,
    CONSENT_SHARE_WITH_CLINICS,
    MAX_PREFERRED_CLINICS,
    DeletionRequestForm,
    HeldUploadsForm,
    InquiryForm,
    LostLinkForm,
    ReplyForm,
)
from inquiries.limits import (
    HELD_FILES_PER_ADDRESS,
    INQUIRIES_PER_ADDRESS,
    INQUIRIES_PER_MAILBOX,
    LINK_EMAILS_PER_ADDRESS,
    LINK_EMAILS_PER_MAILBOX,
    REPLIES_PER_ADDRESS,
    post_ceiling,
    refused_when_reached,
)
from inquiries.models import Attachment, Inquiry, InquiryStatus
from inquiries.services import (
    inquiry_add_patient_reply,
    inquiry_create,
    inquiry_request_deletion,
    inquiry_resend_follow_up_links,
    uploads_discard,
    uploads_hold,
)
from inquiries.uploads import MAX_ATTACHMENTS, StorageUnavailable, removed_on_failure
from staff.audit import record
from staff.decorators import redirect_to_confirmation
from staff.models import AuditAction
from staff.sessions import identity_recently_confirmed

SESSION_SUBMITTED = "submitted_inquiries"
# The request form's second button: list the clinics found by name or matching the chosen condition.
FIND_CLINICS = "find_clinics"
# A full or read-only disk needs an operator; asking browsers and proxies back sooner would not help.
STORAGE_RETRY_AFTER_SECONDS = 300


def patient_data_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Pages with a patient's data: never cached, never indexed, the private address never sent away.

    ``same-origin`` keeps the follow-up token out of other hosts' reach. ``no-referrer`` would too, but
    then Chromium posts the page's own forms with ``Origin: null``, which CSRF protection refuses.
    """

    @wraps(view)
    @private_page
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapper


@resendable_after_outage
@patient_data_page
@post_ceiling("inquiry-post")
@refused_when_reached(INQUIRIES_PER_ADDRESS, INQUIRIES_PER_MAILBOX)
@require_http_methods(["GET", "POST"])
def inquiry_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit(request)
    # Links from a condition page, a clinic page or a comparison: ?condition=<slug>&clinic=<slug>&…
    condition_slug = request.GET.get("condition")
    condition = Condition.objects.published().filter(slug=condition_slug).first() if condition_slug else None
    slugs = request.GET.getlist("clinic")[:MAX_PREFERRED_CLINICS]
    form = InquiryForm(
        initial={"submission_key": uuid.uuid4(), "preferred_clinics": slugs}, condition=condition
    )
    chosen = [clinic for clinic in form.offered_clinics if clinic.slug in slugs]
    clinic = chosen[0] if len(chosen) == 1 else None
    return render(
        request, "inquiries/inquiry_form.html", {"form": form, "condition": condition, "clinic": clinic}
    )


def _submit(request: HttpRequest) -> HttpResponse:
    form = InquiryForm(request.POST, request.FILES)
    if form.is_spam:
        return render(request, "inquiries/inquiry_thanks.html", {"inquiry": None})
    form_page = partial(render, request, "inquiries/inquiry_form.html", {"form": form})
    if FIND_CLINICS in request.POST:
        return _find_clinics(request, form, form_page)
    if not form.is_valid():
        try:
            _hold_accepted_uploads(request, form)
        except StorageUnavailable:
            return _storage_unavailable(request, form_page, _request_not_sent())
        return form_page(status=400)

    try:
        inquiry, token = inquiry_create(
            data=form.inquiry_data(),
            clinics=form.cleaned_data["preferred_clinics"],
            uploads=form.cleaned_data["attachments"],
            held=form.kept_held,
            discarded=form.removed_held,
            submission_key=form.cleaned_data["submission_key"],
            consent_text=str(CONSENT_HEALTH_DATA),
            consent_share_text=str(CONSENT_SHARE_WITH_CLINICS) if form.cleaned_data["consent_share"] else "",
        )
    except StorageUnavailable:
        return _storage_unavailable(request, form_page, _request_not_sent())
    if token is not None:  # stored now, not a repeat of a request stored before
        limits.count(request, INQUIRIES_PER_ADDRESS, INQUIRIES_PER_MAILBOX)
    submitted = request.session.get(SESSION_SUBMITTED, [])
    if inquiry.reference not in submitted:
        request.session[SESSION_SUBMITTED] = [*submitted, inquiry.reference][-10:]
    return redirect("inquiries:thanks", reference=inquiry.reference)


def _find_clinics(
    request: HttpRequest, form: InquiryForm, form_page: Callable[..., HttpResponse]
) -> HttpResponse:
    """The patient asked for clinics by name or for the chosen condition: the form again with them
    listed, what was typed kept and the valid files held, nothing sent and no errors shown yet."""
    form.is_valid()
    try:
        _hold_accepted_uploads(request, form)
    except StorageUnavailable:
        return _storage_unavailable(request, form_page, _request_not_sent())
    return render(request, "inquiries/inquiry_form.html", {"form": form.unbound_copy()})


def _hold_accepted_uploads(request: HttpRequest, form: HeldUploadsForm) -> None:
    """After a validation error: forget the files the patient removed, hold the valid new ones, so that
    the page shows them (by name and size) and the corrected resubmission sends them.

    Nothing new is held when the files are too many (the patient chooses again), or when this address
    has had many files held lately (refused forms must not fill the disk). Raises StorageUnavailable,
    holding none, when the disk refuses them.
    """
    key = form.cleaned_data.get("submission_key")
    if not key:
        return
    with transaction.atomic():
        uploads_discard(form.removed_held)
    new = form.accepted_new_uploads()
    if new and len(form.kept_held) + len(new) <= MAX_ATTACHMENTS:
        if limits.first_reached(request, HELD_FILES_PER_ADDRESS):
            form.add_error("attachments", gettext("Please attach your files again when you send the form."))
        else:
            uploads_hold(submission_key=key, uploads=new)
            limits.count(request, *[HELD_FILES_PER_ADDRESS] * len(new))
    form.reload_held()


def _request_not_sent() -> str:
    return gettext(
        "We could not store your files just now, so your request was not sent. Nothing was saved. "
        "Please try again in a few minutes; your answers are still in the form, but choose the files again."
    )


def _reply_not_sent() -> str:
    return gettext(
        "We could not store your files just now, so your reply was not sent. Nothing was saved. "
        "Please try again in a few minutes; your reply is still in the form, but choose the files again."
    )


def _storage_unavailable(
    request: HttpRequest, form_page: Callable[..., HttpResponse], message: str
) -> HttpResponse:
    """The disk refused the patient's files: 503, the reason at the top of the page, and the form
    again with what they typed (a browser never fills a file input back in)."""
    messages.error(request, message)
    response = form_page(status=503)
    response["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return response


@patient_data_page
def inquiry_thanks(request: HttpRequest, reference: str) -> HttpResponse:
    if reference not in request.session.get(SESSION_SUBMITTED, []):
        raise Http404
    inquiry = get_object_or_404(Inquiry, reference=reference)
    return render(request, "inquiries/inquiry_thanks.html", {"inquiry": inquiry})


def inquiry_for_token(reference: str, token: str) -> Inquiry:
    inquiry = Inquiry.objects.filter(reference=reference, anonymised_at__isnull=True).first()
    if inquiry is None or not inquiry.token_matches(token):
        raise Http404
    return inquiry


@resendable_after_outage
@patient_data_page
@post_ceiling("follow-up-post")
@refused_when_reached(REPLIES_PER_ADDRESS)
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    inquiry = inquiry_for_token(reference, token)
    if request.method != "POST":
        return render_follow_up(request, inquiry, token)
    if inquiry.status == InquiryStatus.CLOSED:
        return redirect(request.path)
    reply_form = ReplyForm(request.POST, request.FILES)
    follow_up_page = partial(render_follow_up, request, inquiry, token, reply_form=reply_form)
    if not reply_form.is_valid():
        try:
            _hold_accepted_uploads(request, reply_form)
        except StorageUnavailable:
            return _storage_unavailable(request, follow_up_page, _reply_not_sent())
        return follow_up_page(status=400)
    try:
        with removed_on_failure(), transaction.atomic():
            inquiry_add_patient_reply(
                inquiry=inquiry,
                message=reply_form.cleaned_data["message"],
                uploads=reply_form.cleaned_data["attachments"],
                held=reply_form.kept_held,
                submission_key=reply_form.cleaned_data["submission_key"],
            )
            uploads_discard(reply_form.removed_held)
    except IntegrityError:
        pass  # the same reply sent twice at once: the first one was stored
    except StorageUnavailable:
        return _storage_unavailable(request, follow_up_page, _reply_not_sent())
    else:
        limits.count(request, REPLIES_PER_ADDRESS)
    return redirect(request.path + "#timeline")


def render_follow_up(
    request: HttpRequest,
    inquiry: Inquiry,
    token: str,
    *,
    reply_form: ReplyForm | None = None,
    deletion_form: DeletionRequestForm | None = None,
    panel_state: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The follow-up page. Higher apps add their pieces (the clinics' offers) through the providers
    listed in ``settings.FOLLOW_UP_PAGE_PANELS``: ``(request, inquiry, token, state) -> dict | None``,
    the dict naming its ``template``; ``panel_state`` carries a refused form back to its panel."""
    panels = [
        panel
        for provider in settings.FOLLOW_UP_PAGE_PANELS
        if (panel := import_string(provider)(request, inquiry, token, panel_state or {}))
    ]
    context = {
        "inquiry": inquiry,
        "token": token,
        "timeline": inquiry.timeline.public().prefetch_related("attachments"),
        "reply_form": reply_form or ReplyForm(initial={"submission_key": uuid.uuid4()}),
        "deletion_form": deletion_form or DeletionRequestForm(),
        "panels": panels,
    }
    return render(request, "inquiries/follow_up.html", context, status=status)


@patient_data_page
@require_POST
def follow_up_delete(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    inquiry = inquiry_for_token(reference, token)
    form = DeletionRequestForm(request.POST)
    if not form.is_valid():
        return render_follow_up(request, inquiry, token, deletion_form=form, status=400)
    inquiry_request_deletion(inquiry=inquiry)
    return redirect(
        reverse("inquiries:follow_up", kwargs={"reference": reference, "token": token}) + "#deletion"
    )


@patient_data_page
def follow_up_attachment(
    request: HttpRequest, reference: str, token: str, attachment_id: uuid.UUID
) -> FileResponse:
    inquiry = inquiry_for_token(reference, token)
    attachment = get_object_or_404(Attachment, pk=attachment_id, inquiry=inquiry)
    return _download(attachment)


@patient_data_page
@staff_member_required
def staff_attachment(request: HttpRequest, attachment_id: uuid.UUID) -> HttpResponseRedirect | FileResponse:
    if not request.user.has_perm("inquiries.download_attachment"):
        raise Http404
    attachment = get_object_or_404(
        Attachment.objects.select_related("inquiry"),
        pk=attachment_id,
        inquiry__in=Inquiry.objects.visible_to(request.user),
    )
    if not identity_recently_confirmed(request):
        return redirect_to_confirmation(request, request.get_full_path())
    # The inquiry is the object: a file's name may itself say something about the patient's health.
    record(AuditAction.DOWNLOAD, request=request, obj=attachment.inquiry, note=f"file {attachment.pk}")
    return _download(attachment)


def _download(attachment: Attachment) -> FileResponse:
    handle = default_storage.open(attachment.file.name, "rb")
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@patient_data_page
@post_ceiling("lost-link-post")
@require_http_methods(["GET", "POST"])
def lost_link(request: HttpRequest) -> HttpResponse:
    form = LostLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        limited = (LINK_EMAILS_PER_ADDRESS, LINK_EMAILS_PER_MAILBOX)
        if retry_after := limits.first_reached(request, *limited):
            return limits.too_many_requests(request, retry_after)
        inquiry_resend_follow_up_links(email=form.cleaned_data["email"])
        limits.count(request, *limited)
        return render(request, "inquiries/lost_link.html", {"form": LostLinkForm(), "sent": True})
    status = 400 if form.is_bound else 200
    return render(request, "inquiries/lost_link.html", {"form": form, "sent": False}, status=status)
