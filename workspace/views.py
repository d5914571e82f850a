"""The coordinators' workspace: the inbox and one inquiry with its actions. Thin views: the reach
rule is ``Inquiry.objects.visible_to``, the actions are the inquiries services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic_portal.decorators import private_page
from clinics.models import Clinic
from inquiries.exports import export_lines
from inquiries.models import OPEN_STATUSES, EmailKind, Inquiry, InquiryQuerySet, InquiryStatus
from inquiries.services import (
    TELLS_THE_PATIENT,
    InquiryChanged,
    inquiry_assign,
    inquiry_claim_version,
    inquiry_mark_read,
    inquiry_respond,
    inquiry_transition,
    render_email,
)
from referrals.models import Referral
from referrals.services import (
    AnswerAlreadyPublished,
    answer_publish,
    clinic_email_context,
    referral_revoke,
    referral_share,
)
from staff.audit import record
from staff.models import AuditAction
from workspace.dashboard import figures
from workspace.filters import SORTS, InboxFilter, default_queue
from workspace.forms import (
    AssignForm,
    NoteForm,
    PublishForm,
    ReplyForm,
    RevokeForm,
    ShareForm,
    StatusForm,
    VersionedForm,
)
from workspace.reply_templates import BY_KEY, REPLY_TEMPLATES
from workspace.sharing import share_candidates

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class StaffRequest(HttpRequest):
        """A request ``workspace_page`` let through: a signed-in staff member's."""

        user: User
        LANGUAGE_CODE: str


MAX_PAGE = 10_000
PAGE_SIZE = 25  # a screenful on a laptop; each row costs about a millisecond to render


def workspace_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in staff who handle inquiries (the second factor is checked by StaffAccessMiddleware);
    anyone else: 404. Pages are private: never cached, never indexed."""

    @wraps(view)
    @private_page
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("staff:login"))
        if not (user.is_active and user.is_staff and user.has_perm("inquiries.view_inquiry")):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _status_counts(
    reachable: InquiryQuerySet, user: User
) -> tuple[list[tuple[InquiryStatus, int]], dict[str, int]]:
    """Open inquiries per status, and mine / unassigned / overdue, in one read of the open inquiries
    (through the status index: never a count of every closed inquiry)."""
    counted = reachable.open().aggregate(
        **{f"status_{status.value}": Count("pk", filter=Q(status=status)) for status in OPEN_STATUSES},
        mine=Count("pk", filter=Q(assigned_to=user)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
        overdue=Count("pk", filter=InquiryQuerySet.overdue_condition()),
    )
    by_status: list[tuple[InquiryStatus, int]] = [
        (status, counted[f"status_{status.value}"]) for status in OPEN_STATUSES
    ]
    return by_status, {name: counted[name] for name in ("mine", "unassigned", "overdue")}


def _inbox_rows(request: StaffRequest) -> tuple[InquiryQuerySet, InboxFilter, InquiryQuerySet]:
    reachable = Inquiry.objects.visible_to(request.user)
    inbox_filter = InboxFilter(request.GET, queryset=reachable, user=request.user)
    if inbox_filter.is_default_view:
        rows = default_queue(reachable, request.user)
    elif inbox_filter.is_valid():
        rows = inbox_filter.qs
        if not request.GET.get("sort"):
            rows = rows.order_by(*SORTS["due"])
    else:
        rows = reachable.none()
    return reachable, inbox_filter, rows


@workspace_page
@require_safe
def inbox(request: StaffRequest) -> HttpResponse:
    reachable, inbox_filter, rows = _inbox_rows(request)
    try:
        number = min(max(int(request.GET.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        number = 1
    # One row beyond the page says whether there is a next one: no COUNT over the whole table.
    window = list(
        rows.select_related("condition", "assigned_to").prefetch_related(
            Prefetch("preferred_clinics", queryset=Clinic.objects.order_by_name())
        )[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1]
    )
    by_status, counts = _status_counts(reachable, request.user)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": inbox_filter,
        "inquiries": window[:PAGE_SIZE],
        "page_number": number,
        "has_next": len(window) > PAGE_SIZE,
        "query": query.urlencode(),
        "by_status": by_status,
        "counts": counts,
        "now": timezone.now(),
        "may_export": request.user.has_perm("inquiries.export_inquiry"),
    }
    return render(request, "workspace/inbox.html", context)


@workspace_page
@require_safe
def export(request: StaffRequest) -> StreamingHttpResponse:
    """The inbox's rows as CSV, as filtered (leads and admins)."""
    if not request.user.has_perm("inquiries.export_inquiry"):
        raise Http404
    _reachable_rows, _filter, rows = _inbox_rows(request)
    rows = rows.select_related("condition", "assigned_to").prefetch_related("preferred_clinics")
    references = list(rows.values_list("reference", flat=True))
    record(
        AuditAction.EXPORT,
        request=request,
        changes={"filters": request.GET.dict(), "references": references},
        note=f"{len(references)} inquiries",
    )
    response = StreamingHttpResponse(
        export_lines(rows.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="inquiries.csv"'
    return response


def _reachable(request: StaffRequest, reference: str) -> Inquiry:
    queryset = Inquiry.objects.visible_to(request.user).select_related("condition", "assigned_to")
    return get_object_or_404(queryset, reference=reference, anonymised_at__isnull=True)


def _render_inquiry(
    request: StaffRequest,
    inquiry: Inquiry,
    *,
    forms: dict[str, VersionedForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    template = BY_KEY.get(request.GET.get("template", ""))
    inbox_query = request.GET.copy()
    inbox_query.pop("template", None)
    previous, following = _neighbours(request, inquiry.reference)
    reply_initial = {"message": template.render(inquiry, inquiry.language)} if template else {}
    context = {
        "inquiry": inquiry,
        "timeline": inquiry.timeline.select_related("author").prefetch_related("attachments"),
        "attachments": inquiry.attachments.all(),
        "clinics": inquiry.preferred_clinics.order_by_name(),  # type: ignore[attr-defined]
        "reply_templates": REPLY_TEMPLATES,
        "chosen_template": template,
        "template_for_reader": template.render(inquiry, request.LANGUAGE_CODE) if template else "",
        "reply_form": forms.get("reply") or ReplyForm(inquiry=inquiry, initial=reply_initial),
        "note_form": forms.get("note") or NoteForm(inquiry=inquiry),
        "status_form": forms.get("status") or StatusForm(inquiry=inquiry),
        "assign_form": forms.get("assign") or AssignForm(inquiry=inquiry, user=request.user),
        "referrals": _referrals(inquiry, forms),
        "now": timezone.now(),
        "inbox_query": inbox_query.urlencode(),
        "inbox_params": list(inbox_query.lists()),
        "previous_reference": previous,
        "next_reference": following,
    }
    return render(request, "workspace/inquiry.html", context, status=status)


def _referrals(inquiry: Inquiry, forms: dict[str, VersionedForm]) -> list[Referral]:
    """The clinics the case was shared with, each with its answer and the forms acting on it."""
    referrals = list(
        inquiry.referrals.select_related("clinic", "shared_by", "answer__doctor").prefetch_related(
            "attachments", "answer__treatments"
        )
    )
    now = timezone.now()
    failed_publication = cast("PublishForm | None", forms.get("publish"))
    for referral in referrals:
        referral.link_open = referral.is_open(now)  # type: ignore[attr-defined]
        referral.clinic_answer = getattr(referral, "answer", None)  # type: ignore[attr-defined]
        referral.revoke_form = RevokeForm(inquiry=inquiry)  # type: ignore[attr-defined]
        if failed_publication is not None and failed_publication.referral.pk == referral.pk:
            referral.publish_form = failed_publication  # type: ignore[attr-defined]
        else:
            referral.publish_form = PublishForm(inquiry=inquiry, referral=referral)  # type: ignore[attr-defined]
    return referrals


@workspace_page
@require_safe
def inquiry_detail(request: StaffRequest, reference: str) -> HttpResponse:
    inquiry = _reachable(request, reference)
    inquiry_mark_read(inquiry)
    record(AuditAction.VIEW, request=request, obj=inquiry)
    return _render_inquiry(request, inquiry)


NEIGHBOUR_WINDOW = 500


def _neighbours(request: StaffRequest, reference: str) -> tuple[str | None, str | None]:
    """The previous and next inquiry in the list the coordinator came from (its filters ride along
    in the query string), for the keyboard's n / p."""
    _reachable_set, _filter, rows = _inbox_rows(request)
    references = list(rows.values_list("reference", flat=True)[:NEIGHBOUR_WINDOW])
    if reference not in references:
        return None, None
    position = references.index(reference)
    previous = references[position - 1] if position > 0 else None
    following = references[position + 1] if position + 1 < len(references) else None
    return previous, following


def _act(
    request: StaffRequest,
    reference: str,
    form_class: type[VersionedForm],
    name: str,
    action: Callable[[Inquiry, dict[str, Any]], None],
    **form_kwargs: Any,
) -> HttpResponse:
    """Bind the form; on success run ``action(inquiry, cleaned_data)`` at the form's version."""
    inquiry = _reachable(request, reference)
    form = form_class(request.POST, inquiry=inquiry, **form_kwargs)
    if not form.is_valid():
        return _render_inquiry(request, inquiry, forms={name: form}, status=400)
    try:
        with transaction.atomic():
            inquiry_claim_version(inquiry, form.cleaned_data["version"])
            action(inquiry, form.cleaned_data)
    except InquiryChanged as changed:
        _tell_changed(request, changed)
        # The draft comes back on the current version: sent again, it goes through (knowingly).
        data = request.POST.copy()
        data["version"] = changed.current_version  # type: ignore[assignment]  # the form reads the number
        fresh = _reachable(request, reference)
        redrawn = form_class(data, inquiry=fresh, **form_kwargs)
        return _render_inquiry(request, fresh, forms={name: redrawn}, status=409)
    return redirect("workspace:inquiry", reference=reference)


def _tell_changed(request: StaffRequest, changed: InquiryChanged) -> None:
    if changed.changed_by_patient:
        who = _("the patient")
    else:
        who = changed.changed_by.get_username() if changed.changed_by else _("someone")
    when = formats.date_format(timezone.localtime(changed.changed_at), "DATETIME_FORMAT")
    messages.error(
        request,
        _("This inquiry was changed by %(who)s at %(when)s. Reload it to see the change; nothing was saved.")
        % {"who": who, "when": when},
    )


@workspace_page
@require_POST
def reply(request: StaffRequest, reference: str) -> HttpResponse:
    def send(inquiry: Inquiry, data: dict[str, Any]) -> None:
        inquiry_respond(inquiry=inquiry, by=request.user, message=data["message"], public=True)
        record(AuditAction.MESSAGE, request=request, obj=inquiry, note="public")

    response = _act(request, reference, ReplyForm, "reply", send)
    if response.status_code == 302:
        messages.success(request, _("Your reply was sent to the patient."))
    return response


@workspace_page
@require_POST
def note(request: StaffRequest, reference: str) -> HttpResponse:
    def add(inquiry: Inquiry, data: dict[str, Any]) -> None:
        inquiry_respond(inquiry=inquiry, by=request.user, message=data["note"], public=False)
        record(AuditAction.MESSAGE, request=request, obj=inquiry, note="internal")

    return _act(request, reference, NoteForm, "note", add)


@workspace_page
@require_POST
def change_status(request: StaffRequest, reference: str) -> HttpResponse:
    def move(inquiry: Inquiry, data: dict[str, Any]) -> None:
        old = inquiry.status
        inquiry_transition(
            inquiry=inquiry,
            to=data["status"],
            by=request.user,
            closing_reason=data["closing_reason"],
            notify_patient=data["status"] in TELLS_THE_PATIENT,
        )
        changes = {"status": [old, inquiry.status]}
        if inquiry.closing_reason:
            changes["closing_reason"] = ["", inquiry.closing_reason]
        record(AuditAction.STATUS, request=request, obj=inquiry, changes=changes)

    return _act(request, reference, StatusForm, "status", move)


@workspace_page
@require_POST
def assign(request: StaffRequest, reference: str) -> HttpResponse:
    def give(inquiry: Inquiry, data: dict[str, Any]) -> None:
        before = inquiry.assigned_to.get_username() if inquiry.assigned_to else None
        inquiry_assign(inquiry=inquiry, to=data["assignee"], by=request.user)
        after = inquiry.assigned_to.get_username() if inquiry.assigned_to else None
        record(AuditAction.ASSIGN, request=request, obj=inquiry, changes={"assigned_to": [before, after]})

    return _act(request, reference, AssignForm, "assign", give, user=request.user)


@workspace_page
@require_safe
def dashboard(request: StaffRequest) -> HttpResponse:
    """For leads and admins: arrivals per week, response times, overdue, each coordinator's load."""
    if not request.user.has_perm("inquiries.view_all_inquiries"):
        raise Http404
    context = figures(Inquiry.objects.visible_to(request.user), by=request.GET.get("by", "language"))
    return render(request, "workspace/dashboard.html", context)


@workspace_page
@require_http_methods(["GET", "HEAD", "POST"])
def share(request: StaffRequest, reference: str) -> HttpResponse:
    """Choose clinics and files, preview what each clinic will see, then share."""
    inquiry = _reachable(request, reference)
    candidates = share_candidates(inquiry)
    if request.method != "POST":
        return _render_share(request, inquiry, ShareForm(inquiry=inquiry, candidates=candidates))
    form = ShareForm(request.POST, inquiry=inquiry, candidates=candidates)
    if not form.is_valid():
        return _render_share(request, inquiry, form, status=400)
    if request.POST.get("action") != "share":
        return _render_share(request, inquiry, form, preview=request.POST.get("action") == "preview")
    data = form.cleaned_data
    try:
        with transaction.atomic():
            inquiry_claim_version(inquiry, data["version"])
            referrals = referral_share(
                inquiry=inquiry,
                clinics=list(data["clinics"]),
                attachments=list(data["attachments"]),
                note=data["note"],
                by=request.user,
                request=request,
            )
    except InquiryChanged as changed:
        _tell_changed(request, changed)
        fresh = _reachable(request, reference)
        return _render_share(
            request, fresh, ShareForm(inquiry=fresh, candidates=share_candidates(fresh)), status=409
        )
    messages.success(
        request,
        ngettext(
            "The case was shared with %(count)d clinic.",
            "The case was shared with %(count)d clinics.",
            len(referrals),
        )
        % {"count": len(referrals)},
    )
    return redirect("workspace:inquiry", reference=reference)


def _render_share(
    request: StaffRequest, inquiry: Inquiry, form: ShareForm, *, preview: bool = False, status: int = 200
) -> HttpResponse:
    context = {
        "inquiry": inquiry,
        "form": form,
        "candidates": form.candidates,
        "already_shared": inquiry.referrals.select_related("clinic"),
        "previews": _previews(inquiry, form) if preview else None,
    }
    return render(request, "workspace/share.html", context, status=status)


def _previews(inquiry: Inquiry, form: ShareForm) -> list[dict[str, Any]]:
    """What each chosen clinic will receive: the email, and the case with the files ticked."""
    data = form.cleaned_data
    shares_identity = inquiry.consent_share_at is not None
    previews = []
    for clinic in data["clinics"]:
        referral = Referral(
            inquiry=inquiry,
            clinic=clinic,
            language=clinic.contact_language,
            note_to_clinic=data["note"],
            shares_identity=shares_identity,
            expires_at=timezone.now() + timedelta(days=settings.REFERRAL_LINK_DAYS),
        )
        subject, body = render_email(
            inquiry=inquiry,
            kind=EmailKind.CLINIC_REFERRAL,
            language=referral.language,
            context=clinic_email_context(referral, _("[the clinic's private link]")),
        )
        previews.append(
            {"referral": referral, "subject": subject, "body": body, "attachments": data["attachments"]}
        )
    return previews


def _referral(request: StaffRequest, reference: str, referral_id: UUID) -> Referral:
    inquiry = _reachable(request, reference)
    return get_object_or_404(inquiry.referrals.select_related("clinic", "answer"), pk=referral_id)


@workspace_page
@require_POST
def revoke(request: StaffRequest, reference: str, referral_id: UUID) -> HttpResponse:
    referral = _referral(request, reference, referral_id)

    def stop(inquiry: Inquiry, data: dict[str, Any]) -> None:
        referral.inquiry = inquiry
        referral_revoke(referral=referral, by=request.user, request=request)

    response = _act(request, reference, RevokeForm, "revoke", stop)
    if response.status_code == 302:
        messages.success(
            request, _("The link of %(clinic)s no longer works.") % {"clinic": referral.clinic.name}
        )
    return response


@workspace_page
@require_POST
def publish(request: StaffRequest, reference: str, referral_id: UUID) -> HttpResponse:
    referral = _referral(request, reference, referral_id)

    def show(inquiry: Inquiry, data: dict[str, Any]) -> None:
        referral.inquiry = inquiry
        answer_publish(answer=referral.answer, note=data["note"], by=request.user, request=request)

    try:
        response = _act(request, reference, PublishForm, "publish", show, referral=referral)
    except AnswerAlreadyPublished:
        messages.error(request, _("This answer is published already."))
        return redirect("workspace:inquiry", reference=reference)
    if response.status_code == 302:
        messages.success(
            request,
            _("The answer of %(clinic)s is now shown to the patient.") % {"clinic": referral.clinic.name},
        )
    return response
