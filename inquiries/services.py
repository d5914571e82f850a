"""Domain actions on inquiries. Each runs in one transaction: it all happens, or nothing does."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from inquiries import tasks
from inquiries.erasures import log_erasure
from inquiries.models import (
    ALLOWED_TRANSITIONS,
    PATIENT_EMAIL_KINDS,
    Attachment,
    ClosingReason,
    EmailKind,
    EmailStatus,
    HeldUpload,
    Inquiry,
    InquiryStatus,
    NoticeLink,
    OutgoingEmail,
    TimelineEntry,
    TimelineKind,
)
from inquiries.signals import inquiry_erasing
from inquiries.uploads import (
    CleanUpload,
    delete_files,
    held_upload_path,
    read_file,
    removed_on_failure,
    store_file,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from clinics.models import Clinic

CONSENT_VERSION = "2026-11-01"
CONSENT_SHARE_VERSION = "2026-12-01"

# Statuses that ask something of the patient: moving an inquiry there always tells them.
ASKS_THE_PATIENT = {InquiryStatus.WAITING_FOR_PATIENT}
# Moves the patient hears about when a coordinator makes them in the workspace.
TELLS_THE_PATIENT = {
    InquiryStatus.WAITING_FOR_PATIENT,
    InquiryStatus.WITH_CLINICS,
    InquiryStatus.ANSWERED,
    InquiryStatus.CLOSED,
}


class TransitionNotAllowed(Exception):
    pass


def _absolute(path: str) -> str:
    return cast(str, settings.SITE_URL.rstrip("/") + path)


def render_email(
    *, inquiry: Inquiry, kind: EmailKind, language: str, context: Mapping[str, Any]
) -> tuple[str, str]:
    """An email's (subject, body) from the templates named after its kind, in a language."""
    with translation.override(language):
        context = {"inquiry": inquiry, "site_name": settings.SITE_NAME, **context}
        subject = " ".join(render_to_string(f"inquiries/email/{kind}_subject.txt", context).split())
        body = render_to_string(f"inquiries/email/{kind}_body.txt", context)
    return subject, body


def _queue_email(
    *, inquiry: Inquiry, kind: EmailKind, to: str, language: str, context: Mapping[str, Any]
) -> OutgoingEmail:
    """Render an email (templates named after its kind) in a language; queue it in this transaction."""
    subject, body = render_email(inquiry=inquiry, kind=kind, language=language, context=context)
    email = OutgoingEmail.objects.create(inquiry=inquiry, kind=kind, to=to, subject=subject, body=body)
    tasks.schedule(email.pk)
    return email


def _send_link_to_patient(*, inquiry: Inquiry, token: str, kind: EmailKind) -> None:
    """An email in the patient's language carrying the private follow-up link."""
    _queue_email(
        inquiry=inquiry,
        kind=kind,
        to=inquiry.email,
        language=inquiry.language,
        context={"follow_up_url": _absolute(inquiry.follow_up_path(token))},
    )


def _notify_coordinators(*, inquiry: Inquiry, kind: EmailKind) -> None:
    admin_path = reverse("admin:inquiries_inquiry_change", args=[inquiry.pk])
    for address in settings.COORDINATOR_EMAILS:
        _queue_email(
            inquiry=inquiry,
            kind=kind,
            to=address,
            language=settings.LANGUAGE_CODE,
            context={"admin_url": _absolute(admin_path)},
        )


def _save_attachments(
    *, inquiry: Inquiry, uploads: Iterable[CleanUpload], timeline_entry: TimelineEntry
) -> None:
    for upload in uploads:
        attachment = Attachment(
            inquiry=inquiry,
            timeline_entry=timeline_entry,
            original_name=upload.name,
            content_type=upload.content_type,
            size=len(upload.data),
            sha256=upload.sha256,
        )
        attachment.file.name = store_file(
            attachment.file.field.upload_to(attachment, upload.name), upload.data
        )
        attachment.save()


def inquiry_create(
    *,
    data: Mapping[str, Any],
    clinics: Iterable[Clinic],
    uploads: Iterable[CleanUpload],
    submission_key: uuid.UUID,
    consent_text: str,
    consent_share_text: str = "",
    held: Collection[HeldUpload] = (),
    discarded: Collection[HeldUpload] = (),
) -> tuple[Inquiry, str | None]:
    """Store a patient's request with its files and queue the emails. Returns (inquiry, follow-up token).

    A submission key already used (the same form sent twice, one after the other or at once) returns
    the request stored for it, and no token: nothing is stored or sent again, from any entrance.

    ``consent_share_text`` is the wording of the optional consent to share the patient's name and
    contact details with clinics, as shown, when the patient ticked it; empty when not.

    ``held`` are files kept from an earlier, refused try of the same form; they are read only once the
    request's row (unique by submission key) exists, so a concurrent duplicate fails before that.
    ``discarded`` are held files the patient removed from the form. A failure anywhere (database,
    disk) rolls back the rows and deletes the files already written; a disk that refuses the files
    raises ``uploads.StorageUnavailable``.
    """
    if existing := Inquiry.objects.filter(submission_key=submission_key).first():
        return existing, None
    try:
        return _inquiry_store(
            data=data,
            clinics=clinics,
            uploads=uploads,
            submission_key=submission_key,
            consent_text=consent_text,
            consent_share_text=consent_share_text,
            held=held,
            discarded=discarded,
        )
    except IntegrityError:
        # The same form sent twice at once: the first one won.
        if existing := Inquiry.objects.filter(submission_key=submission_key).first():
            return existing, None
        raise


def _inquiry_store(
    *,
    data: Mapping[str, Any],
    clinics: Iterable[Clinic],
    uploads: Iterable[CleanUpload],
    submission_key: uuid.UUID,
    consent_text: str,
    consent_share_text: str,
    held: Collection[HeldUpload],
    discarded: Collection[HeldUpload],
) -> tuple[Inquiry, str]:
    with removed_on_failure(), transaction.atomic():
        inquiry = Inquiry(
            **data,
            submission_key=submission_key,
            consent_health_data_at=timezone.now(),
            consent_health_data_text=consent_text,
            consent_health_data_version=CONSENT_VERSION,
        )
        if consent_share_text:
            inquiry.consent_share_at = inquiry.consent_health_data_at
            inquiry.consent_share_text = consent_share_text
            inquiry.consent_share_version = CONSENT_SHARE_VERSION
        token = inquiry.set_follow_up_token()
        inquiry.save()
        inquiry.preferred_clinics.set(clinics)
        entry = TimelineEntry.objects.create(
            inquiry=inquiry, kind=TimelineKind.CREATED, is_public=True, new_status=InquiryStatus.RECEIVED
        )
        uploads = [*uploads_release(held), *uploads]
        _save_attachments(inquiry=inquiry, uploads=uploads, timeline_entry=entry)
        uploads_discard(held)
        uploads_discard(discarded)
        with tasks.delivered_together():
            _send_link_to_patient(inquiry=inquiry, token=token, kind=EmailKind.PATIENT_CONFIRMATION)
            _notify_coordinators(inquiry=inquiry, kind=EmailKind.COORDINATOR_NEW)
    return inquiry, token


def uploads_hold(*, submission_key: uuid.UUID, uploads: Iterable[CleanUpload]) -> list[HeldUpload]:
    """Keep valid files of a form that failed validation, for its corrected resubmission.

    All or none: a disk that refuses one raises ``uploads.StorageUnavailable`` and keeps none."""
    held: list[HeldUpload] = []
    with removed_on_failure(), transaction.atomic():
        for upload in uploads:
            item = HeldUpload(
                submission_key=submission_key,
                original_name=upload.name,
                content_type=upload.content_type,
                size=len(upload.data),
                sha256=upload.sha256,
            )
            item.file.name = store_file(
                held_upload_path(submission_key, item.id, upload.content_type), upload.data
            )
            item.save()
            held.append(item)
    return held


def uploads_release(held: Iterable[HeldUpload]) -> list[CleanUpload]:
    """The held files' content, ready to store with an inquiry or a reply."""
    return [
        CleanUpload(name=item.original_name, content_type=item.content_type, data=read_file(item.file.name))
        for item in held
    ]


def uploads_discard(held: Collection[HeldUpload]) -> None:
    """Forget held files: the rows now, the files (and their emptied folder) once committed."""
    paths = [item.file.name for item in held]
    HeldUpload.objects.filter(pk__in=[item.pk for item in held]).delete()
    transaction.on_commit(lambda: delete_files(paths))


def uploads_purge_expired(now: datetime.datetime | None = None) -> int:
    expired = list(HeldUpload.objects.expired(now))
    with transaction.atomic():
        uploads_discard(expired)
    return len(expired)


def inquiry_add_patient_reply(
    *,
    inquiry: Inquiry,
    message: str,
    uploads: Iterable[CleanUpload],
    submission_key: uuid.UUID | None = None,
    held: Collection[HeldUpload] = (),
) -> TimelineEntry:
    """The patient's reply. The same form sent twice (same submission key) is stored once."""
    if submission_key and (existing := TimelineEntry.objects.filter(submission_key=submission_key).first()):
        return existing
    with removed_on_failure(), transaction.atomic():
        entry = TimelineEntry.objects.create(
            inquiry=inquiry,
            kind=TimelineKind.PATIENT_MESSAGE,
            is_public=True,
            body=message,
            submission_key=submission_key,
        )
        uploads = [*uploads_release(held), *uploads]
        _save_attachments(inquiry=inquiry, uploads=uploads, timeline_entry=entry)
        uploads_discard(held)
        Inquiry.objects.filter(pk=inquiry.pk).update(
            unread_patient_messages=F("unread_patient_messages") + 1, version=F("version") + 1
        )
        if inquiry.status == InquiryStatus.WAITING_FOR_PATIENT:
            inquiry_transition(inquiry=inquiry, to=InquiryStatus.IN_REVIEW, by=None)
        _notify_coordinators(inquiry=inquiry, kind=EmailKind.COORDINATOR_REPLY)
    return entry


class ClosingReasonRequired(Exception):
    pass


class InquiryChanged(Exception):
    """The inquiry changed since the form was shown (another coordinator acted on it)."""

    def __init__(self, inquiry: Inquiry) -> None:
        latest = inquiry.timeline.select_related("author").order_by("-created_at", "-id").first()
        self.changed_by = latest.author if latest else None
        self.changed_by_patient = latest is not None and latest.kind == TimelineKind.PATIENT_MESSAGE
        self.changed_at = latest.created_at if latest else inquiry.updated_at
        self.current_version = Inquiry.objects.filter(pk=inquiry.pk).values_list("version", flat=True).first()
        super().__init__(f"{inquiry.reference} changed")


def _changed(inquiry: Inquiry) -> None:
    """Any change to an inquiry (by staff, the patient or the system) makes older forms stale."""
    Inquiry.objects.filter(pk=inquiry.pk).update(version=F("version") + 1)


def inquiry_claim_version(inquiry: Inquiry, version: int) -> None:
    """Within the caller's transaction: raise InquiryChanged unless the inquiry is still at ``version``
    (the one its form was built on), then move it to the next version. The conditional update
    locks the row, so two coordinators acting at once cannot both pass."""
    claimed = Inquiry.objects.filter(pk=inquiry.pk, version=version).update(version=F("version") + 1)
    if not claimed:
        raise InquiryChanged(inquiry)
    inquiry.version = version + 1


def _first_response(inquiry: Inquiry, by: User | None) -> None:
    """A coordinator's first answer or status move stops the first-response clock."""
    if by is not None and inquiry.first_responded_at is None:
        inquiry.first_responded_at = timezone.now()
        inquiry.save(update_fields=["first_responded_at"])


@transaction.atomic
def inquiry_transition(
    *,
    inquiry: Inquiry,
    to: str,
    by: User | None,
    note: str = "",
    notify_patient: bool | None = None,
    closing_reason: str = "",
) -> Inquiry:
    """The only way to change an inquiry's status: checks the move, records it, saves the status.

    The patient is told (in their language) when the new status asks something of them, or when
    ``notify_patient`` says so. Closing takes a reason when a coordinator closes (``by``); reopening
    clears it.
    """
    to = InquiryStatus(to)
    current = InquiryStatus(inquiry.status)
    if to not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(f"{current} → {to}")
    if to == InquiryStatus.CLOSED and by is not None and not closing_reason:
        raise ClosingReasonRequired(inquiry.reference)
    inquiry.status = to
    inquiry.closed_at = timezone.now() if to == InquiryStatus.CLOSED else None
    inquiry.closing_reason = closing_reason if to == InquiryStatus.CLOSED else ""
    inquiry.save(update_fields=["status", "closed_at", "closing_reason", "updated_at"])
    _changed(inquiry)
    _first_response(inquiry, by)
    TimelineEntry.objects.create(
        inquiry=inquiry,
        kind=TimelineKind.STATUS,
        is_public=True,
        author=by,
        body=note,
        old_status=current,
        new_status=to,
    )
    if notify_patient or (notify_patient is None and to in ASKS_THE_PATIENT):
        _send_notice_to_patient(inquiry)
    return inquiry


def _send_notice_to_patient(inquiry: Inquiry) -> None:
    """News on the request: a fresh private link that opens the conversation, never the message itself."""
    token = NoticeLink.issue(inquiry)
    _queue_email(
        inquiry=inquiry,
        kind=EmailKind.PATIENT_UPDATE,
        to=inquiry.email,
        language=inquiry.language,
        context={
            "follow_up_url": _absolute(inquiry.follow_up_path(token)),
            "link_days": settings.NOTICE_LINK_DAYS,
            "lost_link_url": _absolute(_in_language(inquiry.language, "inquiries:lost_link")),
        },
    )


@transaction.atomic
def inquiry_respond(
    *,
    inquiry: Inquiry,
    by: User | None,
    message: str = "",
    public: bool = True,
    to: str | None = None,
    closing_reason: str = "",
) -> Inquiry:
    """A coordinator's answer: an optional status change and a message, public or internal.

    The patient is emailed (in their language) when a public message or a status change is added.
    """
    changes_status = bool(to) and to != inquiry.status
    if changes_status:
        inquiry_transition(
            inquiry=inquiry,
            to=to,  # type: ignore[arg-type]  # ``changes_status`` says it is given
            by=by,
            note=message if public else "",
            notify_patient=False,
            closing_reason=closing_reason,
        )
        if message and not public:
            TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.NOTE, author=by, body=message)
    elif message:
        TimelineEntry.objects.create(
            inquiry=inquiry,
            kind=TimelineKind.COORDINATOR_MESSAGE if public else TimelineKind.NOTE,
            is_public=public,
            author=by,
            body=message,
        )
    if message:
        _changed(inquiry)
    if public and message:
        _first_response(inquiry, by)
    # A status change is always shown to the patient, whatever the message's visibility.
    if changes_status or (public and message):
        _send_notice_to_patient(inquiry)
    return inquiry


def _in_language(language: str, url_name: str) -> str:
    with translation.override(language):
        return reverse(url_name)


def _masked(address: str) -> str:
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


@transaction.atomic
def inquiry_assign(*, inquiry: Inquiry, to: User | None, by: User | None) -> Inquiry:
    """Give the inquiry to a coordinator (or to nobody); the timeline records old → new."""
    old = inquiry.assigned_to
    if old == to:
        return inquiry
    inquiry.assigned_to = to
    inquiry.save(update_fields=["assigned_to", "updated_at"])
    _changed(inquiry)
    TimelineEntry.objects.create(
        inquiry=inquiry,
        kind=TimelineKind.ASSIGNED,
        author=by,
        body=f"{old.get_username() if old else '—'} → {to.get_username() if to else '—'}",
    )
    return inquiry


def inquiry_mark_read(inquiry: Inquiry) -> None:
    """The patient's new messages have been seen by a coordinator."""
    if inquiry.unread_patient_messages:
        Inquiry.objects.filter(pk=inquiry.pk).update(unread_patient_messages=0)
        inquiry.unread_patient_messages = 0


@transaction.atomic
def inquiry_correct_email(*, inquiry: Inquiry, new_email: str, reason: str, by: User | None) -> Inquiry:
    """Correct the patient's address. The old address is told (in the patient's language) unless it
    refused our emails; emails to the patient not yet delivered go to the new address instead; the
    timeline keeps an internal note of who did it and why."""
    old_email = inquiry.email
    old_address_refused = inquiry.email_refused_at is not None
    inquiry.email = new_email
    inquiry.email_refused_at = None
    inquiry.save(update_fields=["email", "email_refused_at", "updated_at"])
    _changed(inquiry)
    TimelineEntry.objects.create(
        inquiry=inquiry,
        kind=TimelineKind.NOTE,
        author=by,
        body=f"Email corrected from {old_email} to {new_email}: {reason}",
    )
    undelivered = inquiry.emails.filter(
        kind__in=PATIENT_EMAIL_KINDS, to=old_email, status__in=[EmailStatus.PENDING, EmailStatus.FAILED]
    )
    tasks.send_again(list(undelivered.values_list("pk", flat=True)), to=new_email)
    if not old_address_refused:
        _queue_email(
            inquiry=inquiry,
            kind=EmailKind.EMAIL_CHANGED,
            to=old_email,
            language=inquiry.language,
            context={"new_address": _masked(new_email), "contact": settings.DEFAULT_FROM_EMAIL},
        )
    return inquiry


@transaction.atomic
def inquiry_resend_follow_up_links(*, email: str) -> int:
    """Send a fresh private link for every open request from this address. Silent when there is none."""
    inquiries = list(Inquiry.objects.for_email(email).select_for_update())
    NoticeLink.objects.filter(inquiry__in=inquiries).delete()  # "earlier links no longer work"
    for inquiry in inquiries:
        token = inquiry.set_follow_up_token()
        inquiry.save(update_fields=["follow_up_token_hash", "updated_at"])
        TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.LINK_RESENT)
        _send_link_to_patient(inquiry=inquiry, token=token, kind=EmailKind.FOLLOW_UP_LINK)
    return len(inquiries)


@transaction.atomic
def inquiry_request_deletion(*, inquiry: Inquiry) -> Inquiry:
    if inquiry.deletion_requested_at:
        return inquiry
    inquiry.deletion_requested_at = timezone.now()
    inquiry.save(update_fields=["deletion_requested_at", "updated_at"])
    TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.DELETION_REQUESTED, is_public=True)
    _notify_coordinators(inquiry=inquiry, kind=EmailKind.DELETION_REQUEST)
    return inquiry


ANONYMISED = "—"


def inquiry_anonymise(*, inquiry: Inquiry, by: User | None = None) -> Inquiry:
    """Erase personal and medical data and files; keep what statistics need (condition, country, dates).

    An inquiry erased already is left as it is. The erasure is logged before it commits: if the log
    cannot be written, this raises ErasureLogError and nothing is erased.
    """
    with transaction.atomic():
        # Locked, then checked: of two erasures of one inquiry at once, the second does nothing.
        if Inquiry.objects.select_for_update().values_list("anonymised_at", flat=True).get(pk=inquiry.pk):
            inquiry.refresh_from_db()
            return inquiry
        # Logged first, inside the transaction: an erasure that cannot be logged rolls back. One logged
        # but then rolled back is made by a restore's re-application, as was asked.
        log_erasure(inquiry)
        paths = [attachment.file.name for attachment in inquiry.attachments.all()]
        if inquiry.status != InquiryStatus.CLOSED:
            inquiry_transition(
                inquiry=inquiry, to=InquiryStatus.CLOSED, by=by, closing_reason=ClosingReason.ERASED
            )
        inquiry_erasing.send(sender=Inquiry, instance=inquiry)
        inquiry.attachments.all().delete()
        inquiry.notice_links.all().delete()
        inquiry.timeline.update(body="")
        # An email still waiting would go out after the erasure: cancel it first.
        inquiry.emails.filter(status__in=[EmailStatus.PENDING, EmailStatus.FAILED]).update(
            status=EmailStatus.CANCELLED, lease_until=None
        )
        inquiry.emails.update(to="erased@invalid", subject="", body="")
        inquiry.preferred_clinics.clear()
        for field in ("full_name", "contact_handle", "diagnosis", "medications", "message"):
            setattr(inquiry, field, ANONYMISED if field in ("full_name", "message") else "")
        inquiry.email = f"erased-{inquiry.pk}@invalid"
        inquiry.phone = ""
        inquiry.travel_from = inquiry.travel_until = None
        inquiry.anonymised_at = timezone.now()
        inquiry.set_follow_up_token()  # the old link stops working
        inquiry.save()
        TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.ANONYMISED, author=by)
        # robust: a file that cannot be deleted is logged (purge_inquiries sweeps it later); the
        # erasure stays committed and the caller goes on.
        transaction.on_commit(lambda: delete_files(paths), robust=True)
    return inquiry
