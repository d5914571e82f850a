import uuid
from functools import wraps

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import get_usage

from clinics.models import Clinic
from conditions.models import Condition
from inquiries.forms import CONSENT_HEALTH_DATA, DeletionRequestForm, InquiryForm, LostLinkForm, ReplyForm
from inquiries.models import Attachment, Inquiry, InquiryStatus
from inquiries.services import (
    inquiry_add_patient_reply,
    inquiry_create,
    inquiry_request_deletion,
    inquiry_resend_follow_up_links,
)

SESSION_SUBMITTED = "submitted_inquiries"


def patient_data_page(view):
    """Pages with a patient's data: never cached, never indexed, never sent as a referrer."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _rate_limited(request, *limits):
    """The first limit this request exceeds (each call counts), as seconds until it resets; else None."""
    for group, key, rate in limits:
        usage = get_usage(request, group=group, key=key, rate=rate, method="POST", increment=True)
        if usage and usage["should_limit"]:
            return max(usage["time_left"], 1)
    return None


def _body_too_large(request):
    """Refuse a request body larger than five 10 MB files before Django reads it to disk."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.MAX_REQUEST_BODY_BYTES:
        return render(request, "inquiries/request_too_large.html", status=413)
    return None


def _too_many_requests(request, retry_after):
    response = render(request, "inquiries/rate_limited.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response


@patient_data_page
@require_http_methods(["GET", "POST"])
def inquiry_new(request):
    if request.method == "POST":
        return _submit(request)
    condition = Condition.objects.published().filter(slug=request.GET.get("condition", "")).first()
    clinic = Clinic.objects.published().filter(slug=request.GET.get("clinic", "")).first()
    initial = {"submission_key": uuid.uuid4()}
    if clinic:
        initial["preferred_clinics"] = [clinic.slug]
    form = InquiryForm(initial=initial, condition=condition)
    return render(
        request, "inquiries/inquiry_form.html", {"form": form, "condition": condition, "clinic": clinic}
    )


def _submit(request):
    if too_large := _body_too_large(request):
        return too_large
    retry_after = _rate_limited(
        request,
        ("inquiry-ip", "ip", settings.INQUIRY_RATE_PER_IP),
        ("inquiry-email", "post:email", settings.INQUIRY_RATE_PER_EMAIL),
    )
    if retry_after:
        return _too_many_requests(request, retry_after)

    form = InquiryForm(request.POST, request.FILES)
    if form.is_spam:
        return render(request, "inquiries/inquiry_thanks.html", {"inquiry": None})
    if not form.is_valid():
        return render(request, "inquiries/inquiry_form.html", {"form": form}, status=400)

    submission_key = form.cleaned_data["submission_key"]
    existing = Inquiry.objects.filter(submission_key=submission_key).first()
    if existing is None:
        try:
            existing, _token = inquiry_create(
                data=form.inquiry_data(),
                clinics=form.cleaned_data["preferred_clinics"],
                uploads=form.cleaned_data["attachments"],
                submission_key=submission_key,
                consent_text=str(CONSENT_HEALTH_DATA),
            )
        except IntegrityError:
            # The same form sent twice at once: the first one won.
            existing = get_object_or_404(Inquiry, submission_key=submission_key)
    submitted = request.session.get(SESSION_SUBMITTED, [])
    if existing.reference not in submitted:
        request.session[SESSION_SUBMITTED] = [*submitted, existing.reference][-10:]
    return redirect("inquiries:thanks", reference=existing.reference)


@patient_data_page
def inquiry_thanks(request, reference):
    if reference not in request.session.get(SESSION_SUBMITTED, []):
        raise Http404
    inquiry = get_object_or_404(Inquiry, reference=reference)
    return render(request, "inquiries/inquiry_thanks.html", {"inquiry": inquiry})


def _inquiry_for_token(reference, token):
    inquiry = Inquiry.objects.filter(reference=reference, anonymised_at__isnull=True).first()
    if inquiry is None or not inquiry.token_matches(token):
        raise Http404
    return inquiry


@patient_data_page
@require_http_methods(["GET", "POST"])
def follow_up(request, reference, token):
    inquiry = _inquiry_for_token(reference, token)
    reply_form = ReplyForm()
    if request.method == "POST":
        if too_large := _body_too_large(request):
            return too_large
        retry_after = _rate_limited(request, ("follow-up-reply", "ip", settings.INQUIRY_RATE_PER_IP))
        if retry_after:
            return _too_many_requests(request, retry_after)
        if inquiry.status == InquiryStatus.CLOSED:
            return redirect(request.path)
        reply_form = ReplyForm(request.POST, request.FILES)
        if reply_form.is_valid():
            inquiry_add_patient_reply(
                inquiry=inquiry,
                message=reply_form.cleaned_data["message"],
                uploads=reply_form.cleaned_data["attachments"],
            )
            return redirect(request.path + "#timeline")
    return _render_follow_up(
        request, inquiry, token, reply_form=reply_form, status=400 if reply_form.is_bound else 200
    )


def _render_follow_up(request, inquiry, token, *, reply_form=None, deletion_form=None, status=200):
    context = {
        "inquiry": inquiry,
        "token": token,
        "timeline": inquiry.timeline.public().prefetch_related("attachments"),
        "reply_form": reply_form or ReplyForm(),
        "deletion_form": deletion_form or DeletionRequestForm(),
    }
    return render(request, "inquiries/follow_up.html", context, status=status)


@patient_data_page
@require_POST
def follow_up_delete(request, reference, token):
    inquiry = _inquiry_for_token(reference, token)
    form = DeletionRequestForm(request.POST)
    if not form.is_valid():
        return _render_follow_up(request, inquiry, token, deletion_form=form, status=400)
    inquiry_request_deletion(inquiry=inquiry)
    return redirect(
        reverse("inquiries:follow_up", kwargs={"reference": reference, "token": token}) + "#deletion"
    )


@patient_data_page
def follow_up_attachment(request, reference, token, attachment_id):
    inquiry = _inquiry_for_token(reference, token)
    attachment = get_object_or_404(Attachment, pk=attachment_id, inquiry=inquiry)
    return _download(attachment)


@patient_data_page
@staff_member_required
def staff_attachment(request, attachment_id):
    if not request.user.has_perm("inquiries.download_attachment"):
        raise Http404
    return _download(get_object_or_404(Attachment, pk=attachment_id))


def _download(attachment):
    handle = default_storage.open(attachment.file.name, "rb")
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@patient_data_page
@require_http_methods(["GET", "POST"])
def lost_link(request):
    form = LostLinkForm(request.POST or None)
    if request.method == "POST":
        retry_after = _rate_limited(
            request,
            ("lost-link-ip", "ip", settings.LOST_LINK_RATE),
            ("lost-link-email", "post:email", settings.LOST_LINK_RATE),
        )
        if retry_after:
            return _too_many_requests(request, retry_after)
        if form.is_valid():
            inquiry_resend_follow_up_links(email=form.cleaned_data["email"])
            return render(request, "inquiries/lost_link.html", {"form": LostLinkForm(), "sent": True})
    return render(request, "inquiries/lost_link.html", {"form": form, "sent": False})
