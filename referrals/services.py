"""Domain actions on cases shared with clinics. Each runs in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation

from inquiries.models import (
    ALLOWED_TRANSITIONS,
    EmailKind,
    InquiryStatus,
    TimelineEntry,
    TimelineKind,
    hash_token,
)
from inquiries.services import (
    _absolute,
    _queue_email,
    _send_notice_to_patient,
    inquiry_add_patient_reply,
    inquiry_transition,
)
from referrals.models import ClinicAnswer, Referral
from staff.audit import record
from staff.models import AuditAction, AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

    from clinics.models import Clinic
    from inquiries.models import Attachment, Inquiry


def new_link_token() -> tuple[str, str]:
    """A clinic's private link token: returned once, only its hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def referral_for_token(token: str, now: datetime | None = None) -> Referral | None:
    """The open (not expired, not revoked) referral this token opens, or None."""
    return (
        Referral.objects.open(now or timezone.now())
        .select_related("inquiry", "clinic")
        .filter(token_hash=hash_token(token))
        .first()
    )


def _case_url(token: str, language: str) -> str:
    """The clinic's private link to the answer page, in the clinic's language."""
    with translation.override(language):
        return _absolute(reverse("referrals:case", kwargs={"token": token}))


def _shared_files_line(clinic: Clinic, attachments: Iterable[Attachment]) -> str:
    names = ", ".join(attachment.original_name for attachment in attachments) or "—"
    return f"{clinic.name}\n{names}"


@transaction.atomic
def referral_share(
    *,
    inquiry: Inquiry,
    clinics: Iterable[Clinic],
    attachments: list[Attachment],
    note: str,
    by: User,
    request: HttpRequest | None = None,
) -> list[Referral]:
    """Share the case with each clinic: a private expiring link emailed in the clinic's language.

    The patient's name and contact details travel only if the patient agreed to share them; only
    the ``attachments`` given travel with the case. The inquiry moves to "shared with clinics" (the
    patient is told) when its status allows it. Returns the new referrals.
    """
    now = timezone.now()
    shares_identity = inquiry.consent_share_at is not None
    referrals: list[Referral] = []
    for clinic in clinics:
        token, token_hash = new_link_token()
        referral = Referral.objects.create(
            inquiry=inquiry,
            clinic=clinic,
            token_hash=token_hash,
            shares_identity=shares_identity,
            note_to_clinic=note,
            language=clinic.contact_language,
            shared_by=by,
            shared_at=now,
            expires_at=now + timedelta(days=settings.REFERRAL_LINK_DAYS),
        )
        referral.attachments.set(attachments)
        _queue_email(
            inquiry=inquiry,
            kind=EmailKind.CLINIC_REFERRAL,
            to=clinic.contact_email,
            language=referral.language,
            context=clinic_email_context(referral, _case_url(token, referral.language)),
        )
        TimelineEntry.objects.create(
            inquiry=inquiry,
            kind=TimelineKind.SHARED_WITH_CLINIC,
            author=by,
            body=_shared_files_line(clinic, attachments),
        )
        record(
            AuditAction.SHARE,
            request=request,
            user=by,
            obj=referral,
            changes={
                "clinic": clinic.slug,
                "shares_identity": shares_identity,
                "attachments": [str(attachment.pk) for attachment in attachments],
            },
        )
        referrals.append(referral)
    if inquiry.status == InquiryStatus.RECEIVED:
        # A case good to share has been reviewed: the status says so on the way.
        inquiry_transition(inquiry=inquiry, to=InquiryStatus.IN_REVIEW, by=by, notify_patient=False)
    if InquiryStatus.WITH_CLINICS in ALLOWED_TRANSITIONS[InquiryStatus(inquiry.status)]:
        inquiry_transition(inquiry=inquiry, to=InquiryStatus.WITH_CLINICS, by=by, notify_patient=True)
    return referrals


def clinic_email_context(referral: Referral, case_url: str) -> dict[str, Any]:
    """What the clinic's email says (also shown to the coordinator before sharing)."""
    return {
        "clinic": referral.clinic,
        "referral": referral,
        "case_url": case_url,
        "link_days": settings.REFERRAL_LINK_DAYS,
        "expires_at": referral.expires_at,
    }


@transaction.atomic
def referral_revoke(*, referral: Referral, by: User, request: HttpRequest | None = None) -> Referral:
    """The clinic's link stops working now. Revoking twice changes nothing."""
    if referral.revoked_at is not None:
        return referral
    referral.revoked_at = timezone.now()
    referral.save(update_fields=["revoked_at"])
    TimelineEntry.objects.create(
        inquiry=referral.inquiry,
        kind=TimelineKind.CLINIC_LINK_REVOKED,
        author=by,
        body=referral.clinic.name,
    )
    record(
        AuditAction.REVOKE, request=request, user=by, obj=referral, changes={"clinic": referral.clinic.slug}
    )
    return referral


class AnswerAlreadyPublished(Exception):
    pass


@transaction.atomic
def answer_publish(
    *, answer: ClinicAnswer, note: str, by: User, request: HttpRequest | None = None
) -> ClinicAnswer:
    """Show a clinic's answer to the patient (with the coordinator's optional note) and tell them.

    From now on the clinic can no longer revise it. The inquiry moves to "answered" when its status
    allows it; the patient gets one notice either way.
    """
    # Locked, then checked: the clinic revising at this moment waits, and two publications are one.
    locked = ClinicAnswer.objects.select_for_update().get(pk=answer.pk)
    if locked.published_at is not None:
        raise AnswerAlreadyPublished(answer.pk)
    answer.published_at = timezone.now()
    answer.published_by = by
    answer.coordinator_note = note
    answer.save(update_fields=["published_at", "published_by", "coordinator_note"])
    referral = answer.referral
    inquiry = referral.inquiry
    TimelineEntry.objects.create(
        inquiry=inquiry,
        kind=TimelineKind.ANSWER_PUBLISHED,
        is_public=True,
        author=by,
        body=f"{referral.clinic.name}\n{note}".strip(),
    )
    record(
        AuditAction.PUBLISH, request=request, user=by, obj=referral, changes={"clinic": referral.clinic.slug}
    )
    if InquiryStatus.ANSWERED in ALLOWED_TRANSITIONS[InquiryStatus(inquiry.status)]:
        inquiry_transition(inquiry=inquiry, to=InquiryStatus.ANSWERED, by=by, notify_patient=True)
    else:
        _send_notice_to_patient(inquiry)
    return answer


def clinic_username(clinic: Clinic) -> str:
    """How a clinic's own actions appear in the audit trail (it has no account)."""
    return f"clinic:{clinic.slug}"


def record_clinic_action(
    action: AuditAction,
    *,
    referral: Referral,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    note: str = "",
) -> AuditEntry:
    """An audit entry for what a clinic did through its link: the referral names the link, never the
    token. The link is the clinic's whoever holds it, so a signed-in staff member opening it is
    recorded as the clinic too."""
    return record(
        action,
        request=request,
        user=AnonymousUser(),
        username=clinic_username(referral.clinic),
        obj=obj or referral.inquiry,
        note=f"referral {referral.pk}" + (f", {note}" if note else ""),
    )


class ReferralClosed(Exception):
    """The clinic's link expired or was revoked meanwhile."""


def answer_submit(
    *, referral: Referral, data: Mapping[str, Any], request: HttpRequest | None = None
) -> ClinicAnswer:
    """A clinic's answer to the case shared with it, or its revision until a coordinator publishes it.

    ``data`` holds the answer's fields (``treatments`` a list). The answer lands in the inquiry's
    timeline (internal), the coordinators are emailed and the audit trail records it. Raises
    ``ReferralClosed`` or ``AnswerAlreadyPublished``, changing nothing.
    """
    data = dict(data)
    treatments = data.pop("treatments", [])
    with transaction.atomic():
        # Locked: of two answers sent at once, or an answer and its publication, one waits for the other.
        referral = (
            Referral.objects.open()  # type: ignore[assignment]  # None when the link closed meanwhile
            .select_for_update(of=("self",))
            .select_related("inquiry", "clinic")
            .filter(pk=referral.pk)
            .first()
        )
        if referral is None:
            raise ReferralClosed
        answer = ClinicAnswer.objects.select_for_update().filter(referral=referral).first()
        revised = answer is not None
        # ``revised`` says ``answer`` is not None.
        if revised and answer.is_published:  # type: ignore[union-attr]
            raise AnswerAlreadyPublished(answer.pk)  # type: ignore[union-attr]
        answer = answer or ClinicAnswer(referral=referral)
        for name, value in data.items():
            setattr(answer, name, value)
        if revised:
            answer.revised_at = timezone.now()
        answer.save()
        answer.treatments.set(treatments)
        inquiry = referral.inquiry
        with translation.override(settings.LANGUAGE_CODE):
            summary = f"{referral.clinic.name}: {answer.get_can_treat_display()}"
        TimelineEntry.objects.create(inquiry=inquiry, kind=TimelineKind.CLINIC_ANSWER, body=summary)
        workspace_url = _absolute(reverse("workspace:inquiry", args=[inquiry.reference]))
        for address in settings.COORDINATOR_EMAILS:
            _queue_email(
                inquiry=inquiry,
                kind=EmailKind.COORDINATOR_CLINIC_ANSWER,
                to=address,
                language=settings.LANGUAGE_CODE,
                context={
                    "clinic": referral.clinic,
                    "answer": answer,
                    "revised": revised,
                    "workspace_url": workspace_url,
                },
            )
        record_clinic_action(
            AuditAction.CLINIC_ANSWER, referral=referral, request=request, note="revised" if revised else ""
        )
    return answer


def offer_respond(
    *,
    inquiry: Inquiry,
    answer: ClinicAnswer,
    prefers: bool,
    message: str = "",
    submission_key: UUID | None = None,
) -> TimelineEntry:
    """The patient prefers a clinic's published offer, or asks about it: a patient message naming the
    clinic (so the coordinators are told, as of any reply). A preference asks the coordinator to act,
    so it moves the inquiry to review where the workflow allows. The same form sent twice is stored once.
    """
    if submission_key and (existing := TimelineEntry.objects.filter(submission_key=submission_key).first()):
        return existing
    clinic = answer.referral.clinic.name
    if prefers:
        said = translation.gettext("I prefer the offer of %(clinic)s.") % {"clinic": clinic}
    else:
        said = translation.gettext("A question about the offer of %(clinic)s:") % {"clinic": clinic}
    body = f"{said}\n\n{message}" if message else said
    with transaction.atomic():
        entry = inquiry_add_patient_reply(
            inquiry=inquiry, message=body, uploads=[], submission_key=submission_key
        )
        if prefers and _can_go_to_review(inquiry):
            inquiry_transition(inquiry=inquiry, to=InquiryStatus.IN_REVIEW, by=None)
    return entry


def _can_go_to_review(inquiry: Inquiry) -> bool:
    # Never reopens a closed request: a closed one takes no messages.
    current = InquiryStatus(inquiry.status)
    return current != InquiryStatus.CLOSED and InquiryStatus.IN_REVIEW in ALLOWED_TRANSITIONS[current]
