"""Email delivery: at least once, and the same message when it is more than once.

An email is *claimed* with a committed, conditional UPDATE that sets an expiring lease; it is sent
with the Message-ID fixed when it was written; the outcome is recorded in a second commit. No
transaction or row lock stays open while the SMTP server talks. While a lease is live no other
process touches the email. If a worker dies after the SMTP server accepted a message but before the
record, the lease expires and the email goes out once more, with the same Message-ID, which mail
clients use to show it once.

Failures are classified: a permanent refusal (5xx for the recipient or the message) fails at once
and, for the patient's address, flags the inquiry; anything else is retried with capped, jittered
backoff until ``retry_until`` (EMAIL_RETRY_HOURS after it was written). ``last_error`` and the log
carry SMTP codes only: the server's text often repeats the address.
"""

import contextlib
import logging
import random
import re
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Min
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from inquiries.models import (
    COORDINATOR_EMAIL_KINDS,
    PATIENT_EMAIL_KINDS,
    EmailFailure,
    EmailStatus,
    Inquiry,
    OutgoingEmail,
    TimelineEntry,
    TimelineKind,
)

logger = logging.getLogger(__name__)

FIRST_RETRY_DELAY = timedelta(minutes=1)
ENHANCED_STATUS = re.compile(rb"^\s*([245]\.\d{1,3}\.\d{1,3})")


@dataclass(frozen=True)
class Failure:
    permanent: bool
    summary: str  # SMTP codes and the kind of error; never the server's text


def classify(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
        return Failure(permanent=code >= 500, summary=_summary(code, text, "recipient refused"))
    if isinstance(error, smtplib.SMTPResponseException):
        # Only a refused message is the message's fault; a refused sender or login is our
        # configuration, which someone will fix: keep retrying (and alerting) meanwhile.
        permanent = error.smtp_code >= 500 and isinstance(error, smtplib.SMTPDataError)
        return Failure(permanent, _summary(error.smtp_code, error.smtp_error, type(error).__name__))
    return Failure(permanent=False, summary=type(error).__name__)


def _summary(code, text, what):
    if isinstance(text, str):
        text = text.encode(errors="replace")
    enhanced = ENHANCED_STATUS.match(text or b"")
    return f"{code} {enhanced.group(1).decode()} {what}" if enhanced else f"{code} {what}"


def retry_delay(attempts):
    """1, 2, 4 … minutes, capped, with ±20 % jitter so that retries after an outage spread out."""
    cap = timedelta(minutes=settings.EMAIL_RETRY_MAX_DELAY_MINUTES)
    delay = min(FIRST_RETRY_DELAY * (2 ** min(attempts - 1, 20)), cap)
    return delay * random.uniform(0.8, 1.2)


def claim(email_id, *, now=None):
    """Lease the email for this worker, in its own commit. None when it is not ours to send now."""
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.EMAIL_LEASE_SECONDS)
    with transaction.atomic():
        claimed = (
            OutgoingEmail.objects.claimable(now)
            .filter(pk=email_id)
            .update(lease_until=lease_until, attempts=F("attempts") + 1)
        )
    if not claimed:
        return None
    return OutgoingEmail.objects.get(pk=email_id)


def deliver(email_id):
    """Send one email if it is due and nobody else is sending it. Returns what happened."""
    email = claim(email_id)
    if email is None:
        return "skipped"
    connection = get_connection()
    try:
        connection.open()
        message = EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers={"Message-ID": email.message_id},
            connection=connection,
        )
        message.send()
    except Exception as error:
        with contextlib.suppress(Exception):
            connection.close()
        return record_failure(email, classify(error))
    # Recorded before the goodbye to the SMTP server: a slow QUIT must not make a sent email look failed.
    record_sent(email)
    with contextlib.suppress(Exception):
        connection.close()
    return "sent"


def record_sent(email):
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT,
        sent_at=timezone.now(),
        body="",  # it may hold a private follow-up link
        lease_until=None,
        last_error="",
    )
    logger.info("Email %s (%s) sent, attempt %s", email.pk, email.kind, email.attempts)


def record_failure(email, failure):
    now = timezone.now()
    if failure.permanent or now >= email.retry_until:
        reason = EmailFailure.REFUSED if failure.permanent else EmailFailure.GAVE_UP
        _fail(email, reason=reason, summary=failure.summary, now=now)
        return "failed"
    next_attempt_at = now + retry_delay(email.attempts)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        lease_until=None, next_attempt_at=next_attempt_at, last_error=failure.summary
    )
    logger.warning(
        "Email %s (%s) not delivered (%s), attempt %s; next attempt at %s",
        email.pk,
        email.kind,
        failure.summary,
        email.attempts,
        next_attempt_at.isoformat(timespec="seconds"),
    )
    schedule(email.pk, run_after=next_attempt_at)
    return "retrying"


def _fail(email, *, reason, summary, now):
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.FAILED, failure=reason, failed_at=now, lease_until=None, last_error=summary
        )
        if reason == EmailFailure.REFUSED and email.kind in PATIENT_EMAIL_KINDS and email.inquiry_id:
            _flag_refused_address(email, summary)
    level = logging.ERROR if email.kind in COORDINATOR_EMAIL_KINDS else logging.WARNING
    logger.log(level, "Email %s (%s) failed for good: %s, %s", email.pk, email.kind, reason, summary)


def _flag_refused_address(email, summary):
    # Only if it was sent to the address the inquiry still has: a corrected address is not refused.
    flagged = Inquiry.objects.filter(
        pk=email.inquiry_id, email=email.to, email_refused_at__isnull=True
    ).update(email_refused_at=timezone.now(), version=F("version") + 1)
    if flagged:
        TimelineEntry.objects.create(
            inquiry_id=email.inquiry_id, kind=TimelineKind.EMAIL_REFUSED, body=summary
        )


def schedule(email_id, *, run_after=None):
    """Queue a delivery task; remember its id so the reaper does not queue a second one."""
    from inquiries.tasks import send_outgoing_email

    task = send_outgoing_email
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The immediate backend (tests) cannot wait: the reaper queues the email when it is due.
            return None
        task = task.using(run_after=run_after)
    result = task.enqueue(email_id=email_id)
    OutgoingEmail.objects.filter(pk=email_id).update(task_id=str(result.id)[:64])
    return result


def _task_still_queued(task_id):
    from django_tasks import TaskResultStatus

    from inquiries.tasks import send_outgoing_email

    if not task_id:
        return False
    try:
        return send_outgoing_email.get_result(task_id).status == TaskResultStatus.READY
    except Exception:  # a backend that keeps no results, or a result pruned since
        return False


def requeue_due(*, now=None):
    """The reaper: queue every email that is due, free, and has no task waiting for it — those left
    by a worker that died mid-send (their lease expired) or whose task was lost. Returns the count."""
    now = now or timezone.now()
    requeued = 0
    for email_id, task_id in OutgoingEmail.objects.claimable(now).values_list("pk", "task_id"):
        if _task_still_queued(task_id):
            continue
        schedule(email_id)
        requeued += 1
    return requeued


def resend(email):
    """An admin's "send again" for a failed email: a fresh retry period, the same Message-ID."""
    OutgoingEmail.objects.filter(pk=email.pk, status=EmailStatus.FAILED).update(
        status=EmailStatus.PENDING,
        failure="",
        failed_at=None,
        alerted_at=None,
        next_attempt_at=timezone.now(),
        retry_until=timezone.now() + timedelta(hours=settings.EMAIL_RETRY_HOURS),
        lease_until=None,
    )
    transaction.on_commit(lambda: schedule(email.pk))


@dataclass
class DeliveryReport:
    requeued: int
    pending: int
    oldest_pending_minutes: int | None
    lagging: list
    failed: list

    @property
    def failed_notices(self):
        return [email for email in self.failed if email.kind in COORDINATOR_EMAIL_KINDS]


def oldest_pending_age(now=None):
    oldest = OutgoingEmail.objects.filter(status=EmailStatus.PENDING).aggregate(oldest=Min("created_at"))
    return (now or timezone.now()) - oldest["oldest"] if oldest["oldest"] else None


def check(*, now=None):
    """What the delivery timer does every few minutes: re-queue, then list what nobody was told of."""
    now = now or timezone.now()
    requeued = requeue_due(now=now)
    age = oldest_pending_age(now)
    unreported = OutgoingEmail.objects.not_alerted().select_related("inquiry")
    return DeliveryReport(
        requeued=requeued,
        pending=OutgoingEmail.objects.filter(status=EmailStatus.PENDING).count(),
        oldest_pending_minutes=int(age.total_seconds() // 60) if age else None,
        lagging=list(unreported.lagging(now)),
        failed=list(unreported.filter(status=EmailStatus.FAILED)),
    )


def send_alerts(report):
    """Told directly over SMTP, not through the queue, which may be what is broken. Raises if the
    alert itself cannot go out; emails are marked as alerted only once someone was told."""
    from staff.roles import coordinators

    sent_to = []
    if report.failed_notices:
        addresses = [user.email for user in coordinators() if user.email]
        addresses += [address for _name, address in settings.ADMINS]
        if addresses:
            _send_alert(addresses, *_failed_notices_alert(report.failed_notices))
            sent_to += addresses
    problems = report.failed + report.lagging
    if problems and settings.ADMINS:
        admins = [address for _name, address in settings.ADMINS]
        _send_alert(admins, *_delivery_alert(report))
        sent_to += admins
    if sent_to:
        OutgoingEmail.objects.filter(pk__in=[email.pk for email in problems]).update(
            alerted_at=timezone.now()
        )
    return sorted(set(sent_to))


def _send_alert(addresses, subject, body):
    EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=body,
        from_email=settings.SERVER_EMAIL,
        to=sorted(set(addresses)),
    ).send()


def _failed_notices_alert(emails):
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Notices to coordinators could not be delivered")
        lines = [
            gettext(
                "These notices to the coordinators' mailbox could not be delivered. "
                "Open each inquiry in the workspace:"
            ),
            "",
        ]
        for email in emails:
            reference = email.inquiry.reference if email.inquiry else "—"
            link = _workspace_link(email.inquiry)
            lines.append(f"- {reference}: {email.get_kind_display()} ({email.last_error}) {link}")
    return subject, "\n".join(lines) + "\n"


def _delivery_alert(report):
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Email delivery needs attention")
        lines = [
            gettext("Failed: %(failed)d. Waiting longer than %(minutes)d minutes: %(lagging)d.")
            % {
                "failed": len(report.failed),
                "lagging": len(report.lagging),
                "minutes": settings.EMAIL_LAG_ALERT_MINUTES,
            },
            gettext("Pending now: %(pending)d; the oldest was written %(age)s minutes ago.")
            % {"pending": report.pending, "age": report.oldest_pending_minutes or 0},
            "",
        ]
        for email in report.failed + report.lagging:
            reference = email.inquiry.reference if email.inquiry else "—"
            lines.append(
                f"- #{email.pk} {email.get_kind_display()}, {reference}: {email.get_status_display()}, "
                f"{email.attempts} × {email.last_error or '—'}"
            )
        lines += ["", gettext("Failed emails can be sent again from the admin's list of outgoing emails.")]
    return subject, "\n".join(lines) + "\n"


def _workspace_link(inquiry):
    if inquiry is None:
        return ""
    return settings.SITE_URL.rstrip("/") + reverse("workspace:inquiry", args=[inquiry.reference])
