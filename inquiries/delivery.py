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
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import close_old_connections, transaction
from django.db.models import F, Min
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

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
# A worker sends a queue of emails over one SMTP connection (a new one per email would cost a TCP and
# possibly TLS handshake, EHLO and a login each time). One idle longer than this is not reused: mail
# servers drop idle clients after a few minutes.
REUSE_CONNECTION_SECONDS = 30


@dataclass(frozen=True)
class Failure:
    permanent: bool
    summary: str  # SMTP codes and the kind of error; never the server's text
    address_refused: bool = False  # the recipient's mailbox does not exist or cannot take mail


@dataclass(frozen=True)
class Outcome:
    result: str  # "sent", "failed", "retrying", "skipped" or "superseded"
    retry_at: datetime | None = None


# Enhanced status codes (RFC 3463) about the recipient's address or mailbox. A 5.7.x refusal is a
# policy (relaying, SPF, a blocklist): about our set-up, not the patient's address.
ADDRESS_PROBLEMS = ("5.1.", "5.2.")
ADDRESS_REFUSALS_WITHOUT_ENHANCED_CODE = {550, 551, 553}


def classify(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
        enhanced = _enhanced_status(text)
        if enhanced:
            address_refused = enhanced.startswith(ADDRESS_PROBLEMS)
        else:
            address_refused = code in ADDRESS_REFUSALS_WITHOUT_ENHANCED_CODE
        return Failure(
            permanent=code >= 500 and address_refused,
            summary=_summary(code, enhanced, "recipient refused"),
            address_refused=code >= 500 and address_refused,
        )
    if isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500:
        # The receiving server refused this message for good (its content, its size, a full mailbox).
        enhanced = _enhanced_status(error.smtp_error)
        return Failure(
            permanent=True,
            summary=_summary(error.smtp_code, enhanced, "message refused"),
            address_refused=bool(enhanced) and enhanced.startswith(ADDRESS_PROBLEMS),
        )
    if isinstance(error, smtplib.SMTPResponseException):
        # A refused sender or login, a policy refusal, a busy server: our configuration or a passing
        # problem, which someone will fix. Keep retrying (and alerting) meanwhile.
        enhanced = _enhanced_status(error.smtp_error)
        return Failure(permanent=False, summary=_summary(error.smtp_code, enhanced, type(error).__name__))
    return Failure(permanent=False, summary=type(error).__name__)


def _enhanced_status(text):
    if isinstance(text, str):
        text = text.encode(errors="replace")
    match = ENHANCED_STATUS.match(text or b"")
    return match.group(1).decode() if match else ""


def _summary(code, enhanced, what):
    return f"{code} {enhanced} {what}" if enhanced else f"{code} {what}"


def retry_delay(attempts):
    """1, 2, 4 … minutes, capped, with ±20 % jitter so that retries after an outage spread out."""
    cap = timedelta(minutes=settings.EMAIL_RETRY_MAX_DELAY_MINUTES)
    delay = min(FIRST_RETRY_DELAY * (2 ** min(attempts - 1, 20)), cap)
    return delay * random.uniform(0.8, 1.2)


def send_deadline_seconds():
    """The SMTP exchange is cut off well before the lease ends: no other worker may take an email over
    while this one could still be sending it."""
    return settings.EMAIL_LEASE_SECONDS * 0.8


def claim(email_id, *, now=None):
    """Lease the email for this worker, in its own commit. None when it is not ours to send now."""
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.EMAIL_LEASE_SECONDS)
    claimed = (
        OutgoingEmail.objects.claimable(now)
        .filter(pk=email_id)
        .update(lease_until=lease_until, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return OutgoingEmail.objects.get(pk=email_id)


def deliver(email_id):
    """Send one email if it is due and nobody else is sending it; record what happened."""
    email = claim(email_id)
    if email is None:
        return Outcome("skipped")
    connection = _reusable_connection()
    failure = "not sent"
    try:
        failure = _send(email, connection)
        if not transaction.get_connection().in_atomic_block:
            # A slow exchange may have outlived the database connection (a restart, an idle timeout):
            # check it before recording. (Inside a transaction — tasks run at once, in tests — it is fine.)
            close_old_connections()
        return record_sent(email) if failure is None else record_failure(email, failure)
    finally:
        # Only after the record: a slow goodbye must not make a sent email look failed. After a failure
        # the session may be in any state, so the next email starts a new one.
        if failure is None:
            _keep_open(connection)
        else:
            _close(connection)


_kept = (
    threading.local()
)  # this thread's open SMTP connection: (settings it was made with, connection, last used)


def _connection_settings():
    return tuple(
        getattr(settings, name, None)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "EMAIL_TIMEOUT",
        )
    )


def _reusable_connection():
    """The connection the previous email went out on, if it is recent, made with the settings in force
    and still answers; otherwise a new one (opened by ``_send``, under its deadline)."""
    kept = getattr(_kept, "connection", None)
    _kept.connection = None
    if kept is not None:
        made_with, connection, used_at = kept
        recent = time.monotonic() - used_at < REUSE_CONNECTION_SECONDS
        if made_with == _connection_settings() and recent and _answers(connection):
            return connection
        _close(connection)
    return get_connection()


def _answers(connection):
    smtp = getattr(connection, "connection", None)
    if smtp is None:  # a backend without a connection of its own (console, memory): nothing to check
        return True
    try:
        return smtp.noop()[0] == 250
    except Exception:
        return False


def _keep_open(connection):
    _kept.connection = (_connection_settings(), connection, time.monotonic())


def _close(connection):
    with contextlib.suppress(Exception):
        connection.close()


def close_connection():
    """Say goodbye to the SMTP server on this thread's kept connection (a worker going idle or stopping)."""
    kept = getattr(_kept, "connection", None)
    _kept.connection = None
    if kept is not None:
        _close(kept[1])


def _send(email, connection):
    """Returns None when the SMTP server accepted the message, else the classified failure. The
    exception stays in here: its text names the recipient."""
    watchdog = threading.Timer(send_deadline_seconds(), _cut_off, args=[connection])
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.open()  # nothing to do on a connection kept open
        EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers={"Message-ID": email.message_id},
            connection=connection,
        ).send()
    except Exception as error:
        return classify(error)
    finally:
        watchdog.cancel()
    return None


def _cut_off(connection):
    smtp = getattr(connection, "connection", None)
    sock = getattr(smtp, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    logger.warning("SMTP exchange cut off after %s s: the lease is running out", send_deadline_seconds())


def record_sent(email):
    OutgoingEmail.objects.filter(pk=email.pk, status=EmailStatus.PENDING).update(
        status=EmailStatus.SENT,
        sent_at=timezone.now(),
        body="",  # it may hold a private follow-up link
        lease_until=None,
        last_error="",
    )
    logger.info("Email %s (%s) sent, attempt %s", email.pk, email.kind, email.attempts)
    return Outcome("sent")


def _still_ours(email):
    """The email as this worker claimed it: still pending and under our lease (not taken over by
    another process, nor cancelled by an erasure meanwhile)."""
    return OutgoingEmail.objects.filter(
        pk=email.pk, status=EmailStatus.PENDING, lease_until=email.lease_until
    )


def record_failure(email, failure):
    now = timezone.now()
    if failure.permanent or now >= email.retry_until:
        reason = EmailFailure.REFUSED if failure.permanent else EmailFailure.GAVE_UP
        return _fail(email, reason=reason, failure=failure, now=now)
    next_attempt_at = now + retry_delay(email.attempts)
    if not _still_ours(email).update(
        lease_until=None, next_attempt_at=next_attempt_at, last_error=failure.summary
    ):
        return Outcome("superseded")
    logger.warning(
        "Email %s (%s) not delivered (%s), attempt %s; next attempt at %s",
        email.pk,
        email.kind,
        failure.summary,
        email.attempts,
        next_attempt_at.isoformat(timespec="seconds"),
    )
    return Outcome("retrying", retry_at=next_attempt_at)


def _fail(email, *, reason, failure, now):
    with transaction.atomic():
        failed = _still_ours(email).update(
            status=EmailStatus.FAILED,
            failure=reason,
            failed_at=now,
            lease_until=None,
            last_error=failure.summary,
        )
        if failed and failure.address_refused and email.kind in PATIENT_EMAIL_KINDS and email.inquiry_id:
            _flag_refused_address(email, failure.summary)
    if not failed:
        return Outcome("superseded")
    level = logging.ERROR if email.kind in COORDINATOR_EMAIL_KINDS else logging.WARNING
    logger.log(level, "Email %s (%s) failed for good: %s, %s", email.pk, email.kind, reason, failure.summary)
    return Outcome("failed")


def _flag_refused_address(email, summary):
    # Only if it was sent to the address the inquiry still has: a corrected address is not refused.
    flagged = Inquiry.objects.filter(
        pk=email.inquiry_id, email=email.to, email_refused_at__isnull=True
    ).update(email_refused_at=timezone.now(), version=F("version") + 1)
    if flagged:
        TimelineEntry.objects.create(
            inquiry_id=email.inquiry_id, kind=TimelineKind.EMAIL_REFUSED, body=summary
        )


def reopen(email_ids, *, to=None):
    """Failed (or pending) emails made due again, with a fresh retry period and the same Message-ID —
    an admin's "send again", or a corrected address. Returns the ids to schedule."""
    now = timezone.now()
    changes = {
        "status": EmailStatus.PENDING,
        "failure": "",
        "failed_at": None,
        "lag_alerted_at": None,
        "failure_alerted_at": None,
        "next_attempt_at": now,
        "retry_until": now + timedelta(hours=settings.EMAIL_RETRY_HOURS),
        "lease_until": None,
    }
    if to is not None:
        changes["to"] = to
    reopened = OutgoingEmail.objects.filter(
        pk__in=email_ids, status__in=[EmailStatus.FAILED, EmailStatus.PENDING]
    ).exclude(to__endswith="@invalid")
    ids = list(reopened.values_list("pk", flat=True))
    OutgoingEmail.objects.filter(pk__in=ids).update(**changes)
    return ids


@dataclass
class DeliveryReport:
    pending: int
    oldest_pending_minutes: int | None
    lagging: list
    failed: list

    @property
    def failed_notices(self):
        return [email for email in self.failed if email.kind in COORDINATOR_EMAIL_KINDS]

    @property
    def needs_telling(self):
        return bool(self.lagging or self.failed)


class AlertNotSent(Exception):
    pass


ALERT_LINES = 50


def oldest_pending_age(now=None):
    oldest = OutgoingEmail.objects.filter(status=EmailStatus.PENDING).aggregate(oldest=Min("created_at"))
    return (now or timezone.now()) - oldest["oldest"] if oldest["oldest"] else None


def report(*, now=None):
    """What nobody has been told of yet: emails that failed, and emails waiting too long."""
    now = now or timezone.now()
    age = oldest_pending_age(now)
    return DeliveryReport(
        pending=OutgoingEmail.objects.filter(status=EmailStatus.PENDING).count(),
        oldest_pending_minutes=int(age.total_seconds() // 60) if age else None,
        lagging=list(OutgoingEmail.objects.lagging_unreported(now).select_related("inquiry")),
        failed=list(OutgoingEmail.objects.failed_unreported().select_related("inquiry")),
    )


def send_alerts(report):
    """Straight to the SMTP server, not through the queue, which may be what is broken. Each alert
    marks only what it told someone about. Returns who was told; raises AlertNotSent when an alert
    could not go out or nobody could be told (after sending what it could)."""
    from staff.roles import coordinators

    told, problems = [], []
    notices = report.failed_notices
    coordinator_addresses = [user.email for user in coordinators() if user.email]
    if notices and coordinator_addresses:
        try:
            _send_alert(coordinator_addresses, *_failed_notices_alert(notices))
        except Exception as error:  # the SMTP server's text may name addresses: keep the type only
            problems.append(f"the coordinators' alert ({type(error).__name__})")
        else:
            _mark(notices, "failure_alerted_at")
            told += coordinator_addresses
    admins = [address for _name, address in settings.ADMINS]
    if admins:
        try:
            _send_alert(admins, *_delivery_alert(report))
        except Exception as error:
            problems.append(f"the admins' alert ({type(error).__name__})")
        else:
            _mark(report.failed, "failure_alerted_at")
            _mark(report.lagging, "lag_alerted_at")
            told += admins
    elif len(report.failed) > len(notices) or report.lagging or not told:
        problems.append("nobody to tell about failed or late emails: set ADMINS")
    if problems:
        raise AlertNotSent("; ".join(problems))
    return sorted(set(told))


def _mark(emails, field):
    OutgoingEmail.objects.filter(pk__in=[email.pk for email in emails]).update(**{field: timezone.now()})


def _send_alert(addresses, subject, body):
    EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=body,
        from_email=settings.SERVER_EMAIL,
        to=sorted(set(addresses)),
    ).send()


def _listed(emails, line):
    lines = [line(email) for email in emails[:ALERT_LINES]]
    if len(emails) > ALERT_LINES:
        more = len(emails) - ALERT_LINES
        lines.append(ngettext("… and %(count)d more.", "… and %(count)d more.", more) % {"count": more})
    return lines


def _failed_notices_alert(emails):
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Notices to coordinators could not be delivered")
        lines = [
            gettext(
                "These notices to the coordinators' mailbox could not be delivered. "
                "Open each inquiry in the workspace:"
            ),
            "",
            *_listed(
                emails,
                lambda email: (
                    f"- {_reference(email)}: {email.get_kind_display()} ({email.last_error}) "
                    f"{_workspace_link(email.inquiry)}"
                ),
            ),
        ]
    return subject, "\n".join(lines) + "\n"


def _delivery_alert(report):
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext("Email delivery needs attention")
        lines = [
            ngettext(
                "Failed: %(failed)d. Waiting longer than %(minutes)d minute: %(lagging)d.",
                "Failed: %(failed)d. Waiting longer than %(minutes)d minutes: %(lagging)d.",
                settings.EMAIL_LAG_ALERT_MINUTES,
            )
            % {
                "failed": len(report.failed),
                "lagging": len(report.lagging),
                "minutes": settings.EMAIL_LAG_ALERT_MINUTES,
            },
            ngettext(
                "Pending now: %(pending)d; the oldest was written %(age)s minute ago.",
                "Pending now: %(pending)d; the oldest was written %(age)s minutes ago.",
                report.oldest_pending_minutes or 0,
            )
            % {"pending": report.pending, "age": report.oldest_pending_minutes or 0},
            "",
            *_listed(
                report.failed + report.lagging,
                lambda email: (
                    f"- #{email.pk} {email.get_kind_display()}, {_reference(email)}: "
                    f"{email.get_status_display()}, {email.attempts} × {email.last_error or '—'}"
                ),
            ),
            "",
            gettext("Failed emails can be sent again from the admin's list of outgoing emails."),
        ]
    return subject, "\n".join(lines) + "\n"


def _reference(email):
    return email.inquiry.reference if email.inquiry else "—"


def _workspace_link(inquiry):
    if inquiry is None:
        return ""
    return settings.SITE_URL.rstrip("/") + reverse("workspace:inquiry", args=[inquiry.reference])
