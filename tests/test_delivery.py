"""Email delivery against a real SMTP server: fixed Message-IDs, refusals, deferrals, alerts, erasure."""

import datetime
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inquiries.models import EmailFailure, EmailKind, EmailStatus, Inquiry, OutgoingEmail, TimelineKind
from inquiries.tasks import requeue_due
from staff.roles import COORDINATOR
from tests.support.patients import submit
from tests.support.smtp import SmtpServer
from tests.support.staff import make_staff, signed_in

PATIENT = "aigerim@example.com"
DESK = "desk@clinicportal.example"
OPS = "ops@clinicportal.example"


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    settings.COORDINATOR_EMAILS = [DESK]
    settings.ADMINS = [(OPS, OPS)]
    yield server
    server.stop()


def check_delivery():
    call_command("check_delivery", stdout=io.StringIO())


def patient_email():
    return OutgoingEmail.objects.get(kind=EmailKind.PATIENT_CONFIRMATION)


def come_due(email):
    """Time passes: the email's next attempt is now."""
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())


def test_each_email_reaches_the_smtp_server_once_with_the_message_id_it_was_written_with(
    client, request_choices, smtp
):
    submit(client)
    emails = {email.to: email for email in OutgoingEmail.objects.all()}
    assert set(emails) == {PATIENT, DESK}
    assert {email.status for email in emails.values()} == {EmailStatus.SENT}
    assert all(email.body == "" for email in emails.values())  # the follow-up link is not kept
    for address, email in emails.items():
        [received] = smtp.to(address)
        assert received.message_id == email.message_id
    assert emails[PATIENT].message_id != emails[DESK].message_id
    assert emails[PATIENT].message_id.endswith("@127.0.0.1>")


def test_a_permanent_refusal_fails_at_once_and_the_coordinators_see_it(client, request_choices, smtp, lead):
    smtp.behaviour.refuse_recipients[PATIENT] = f"550 5.1.1 <{PATIENT}>: Recipient address rejected"
    submit(client)
    email = patient_email()
    assert email.status == EmailStatus.FAILED
    assert email.failure == EmailFailure.REFUSED
    assert email.attempts == 1
    assert email.last_error == "550 5.1.1 recipient refused"  # the code, never the server's text
    inquiry = Inquiry.objects.get()
    assert inquiry.email_refused_at is not None
    assert inquiry.timeline.filter(kind=TimelineKind.EMAIL_REFUSED).count() == 1
    assert len(smtp.to(DESK)) == 1  # the coordinators' notice went out

    # Nothing retries a refused email.
    come_due(email)
    assert requeue_due() == 0

    staff_client = signed_in(lead)
    inbox = staff_client.get("/workspace/").content.decode()
    assert "Email refused" in inbox
    detail = staff_client.get(f"/workspace/{inquiry.reference}/").content.decode()
    assert "The patient&#x27;s address refused our email" in detail
    assert "550 5.1.1" in detail


def test_correcting_the_address_clears_the_refusal(client, request_choices, smtp):
    from inquiries.services import inquiry_correct_email

    smtp.behaviour.refuse_recipients[PATIENT] = "550 5.1.1 no such user"
    submit(client)
    inquiry = Inquiry.objects.get()
    inquiry_correct_email(inquiry=inquiry, new_email="aigerim.b@example.com", reason="typo", by=None)
    inquiry.refresh_from_db()
    assert inquiry.email_refused_at is None


def test_a_temporary_failure_is_retried_with_backoff_and_no_second_chain_starts(
    client, request_choices, smtp
):
    smtp.behaviour.defer_everything = "451 4.3.0 Try again later"
    submit(client)
    email = patient_email()
    assert email.status == EmailStatus.PENDING
    assert email.attempts == 1
    assert email.last_error == "451 4.3.0 recipient refused"
    wait = email.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=40) < wait < datetime.timedelta(seconds=80)  # 1 minute, jittered

    # The reaper run again and again while the email waits for its retry starts nothing.
    for _ in range(3):
        check_delivery()
    email.refresh_from_db()
    assert email.attempts == 1

    come_due(email)
    assert requeue_due() == 1  # the one that came due
    email.refresh_from_db()
    assert email.attempts == 2
    assert (
        datetime.timedelta(seconds=90)
        < email.next_attempt_at - timezone.now()
        < datetime.timedelta(seconds=150)
    )

    smtp.behaviour.defer_everything = ""
    come_due(email)
    requeue_due()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert [message.message_id for message in smtp.to(PATIENT)] == [email.message_id]


def test_backoff_is_capped_and_retries_stop_only_after_the_retry_period(
    client, request_choices, smtp, settings
):
    from inquiries.delivery import retry_delay

    assert retry_delay(30) <= datetime.timedelta(minutes=settings.EMAIL_RETRY_MAX_DELAY_MINUTES * 1.2)
    assert settings.EMAIL_RETRY_HOURS >= 48

    smtp.behaviour.defer_everything = "421 4.7.0 Too busy"
    submit(client)
    email = patient_email()
    OutgoingEmail.objects.filter(pk=email.pk).update(retry_until=timezone.now() + datetime.timedelta(hours=1))
    come_due(email)
    requeue_due()
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING  # an hour of retrying left

    OutgoingEmail.objects.filter(pk=email.pk).update(retry_until=timezone.now())
    come_due(email)
    requeue_due()
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.failure == EmailFailure.GAVE_UP
    assert Inquiry.objects.get().email_refused_at is None  # not delivered is not refused


def test_a_failed_notice_alerts_the_coordinators_and_admins_once(client, request_choices, smtp, caplog):
    make_staff("mina", COORDINATOR)
    smtp.behaviour.refuse_recipients[DESK] = "550 5.2.1 Mailbox disabled"
    with caplog.at_level(logging.ERROR, logger="inquiries.delivery"):
        submit(client)
    notice = OutgoingEmail.objects.get(kind=EmailKind.COORDINATOR_NEW)
    assert notice.status == EmailStatus.FAILED
    assert any("failed for good" in record.getMessage() for record in caplog.records)

    check_delivery()
    [to_coordinators] = smtp.to("mina@clinicportal.example")
    assert "Notices to coordinators could not be delivered" in to_coordinators.subject
    [to_admins] = smtp.to(OPS)
    assert "Email delivery needs attention" in to_admins.subject
    notice.refresh_from_db()
    assert notice.failure_alerted_at is not None

    received = len(smtp.received)
    check_delivery()
    assert len(smtp.received) == received  # told once


def test_lagging_emails_alert_the_admins_and_an_alert_that_cannot_go_out_fails_the_timer(
    client, request_choices, smtp
):
    smtp.behaviour.defer_everything = "451 4.3.0 Try again later"
    submit(client)
    OutgoingEmail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=45))
    smtp.stop()  # the alert cannot go out either
    with pytest.raises(CommandError, match="Delivery alert not sent"):
        check_delivery()
    assert not OutgoingEmail.objects.filter(lag_alerted_at__isnull=False).exists()

    smtp.behaviour.defer_everything = ""
    smtp.start()
    check_delivery()
    [alert] = smtp.to(OPS)
    assert "Email delivery needs attention" in alert.subject
    assert OutgoingEmail.objects.filter(lag_alerted_at__isnull=False).count() == 2


def test_an_admin_sends_a_failed_email_again_with_its_message_id(
    client, request_choices, smtp, django_capture_on_commit_callbacks
):
    from staff.roles import ADMIN

    smtp.behaviour.refuse_recipients[PATIENT] = "550 5.1.1 no such user"
    submit(client)
    email = patient_email()
    del smtp.behaviour.refuse_recipients[PATIENT]
    admin_client = signed_in(make_staff("ops", ADMIN))
    failed_list = admin_client.get("/admin/inquiries/outgoingemail/?status__exact=failed").content.decode()
    assert "550 5.1.1 recipient refused" in failed_list
    assert "Send the selected failed emails again" in failed_list
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/inquiries/outgoingemail/",
            {"action": "send_again", "_selected_action": [email.pk]},
            follow=True,
        )
    assert "1 email queued again." in response.content.decode()
    from staff.models import AuditEntry

    assert AuditEntry.objects.filter(object_id=str(email.pk), object_type="inquiries.outgoingemail").exists()
    assert not AuditEntry.objects.filter(object_repr__contains=PATIENT).exists()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert [message.message_id for message in smtp.to(PATIENT)] == [email.message_id]


def test_erasure_leaves_the_address_nowhere(client, request_choices, smtp, caplog):
    from inquiries.services import inquiry_anonymise

    smtp.behaviour.refuse_recipients[PATIENT] = f"550 5.1.1 <{PATIENT}>: Recipient address rejected"
    with caplog.at_level(logging.DEBUG):
        submit(client)
        inquiry_anonymise(inquiry=Inquiry.objects.get())
    for email in OutgoingEmail.objects.all():
        assert PATIENT not in " ".join(
            str(getattr(email, field.attname)) for field in OutgoingEmail._meta.concrete_fields
        )
    ours = [record for record in caplog.records if not record.name.startswith("mail.log")]  # not the server's
    assert ours
    assert not [record for record in ours if PATIENT in record.getMessage()]


@pytest.mark.parametrize(
    ("where", "reply", "status", "flagged", "summary"),
    [
        (
            "rcpt",
            "550 5.1.1 <{address}>: no such user",
            EmailStatus.FAILED,
            True,
            "550 5.1.1 recipient refused",
        ),
        ("rcpt", "550 <{address}>: unknown", EmailStatus.FAILED, True, "550 recipient refused"),
        (
            "rcpt",
            "550 5.7.1 <{address}>: Relaying denied",
            EmailStatus.PENDING,
            False,
            "550 5.7.1 recipient refused",
        ),
        (
            "rcpt",
            "450 4.2.0 <{address}>: greylisted",
            EmailStatus.PENDING,
            False,
            "450 4.2.0 recipient refused",
        ),
        (
            "data",
            "554 5.7.1 Message rejected as spam",
            EmailStatus.FAILED,
            False,
            "554 5.7.1 message refused",
        ),
        ("data", "552 5.2.2 Mailbox full", EmailStatus.FAILED, True, "552 5.2.2 message refused"),
        ("data", "451 4.3.0 Try again", EmailStatus.PENDING, False, "451 4.3.0 SMTPDataError"),
    ],
)
def test_refusals_are_classified_by_what_they_are_about(
    client, request_choices, smtp, where, reply, status, flagged, summary
):
    """Only a refusal of the address itself flags the inquiry; a policy refusal (relaying, SPF) is about
    our set-up and is retried; a refused message fails without blaming the address."""
    reply = reply.format(address=PATIENT)
    if where == "rcpt":
        smtp.behaviour.refuse_recipients[PATIENT] = reply
    else:
        smtp.behaviour.refuse_data_for[PATIENT] = reply
    submit(client)
    email = patient_email()
    assert (email.status, email.last_error) == (status, summary)
    assert (Inquiry.objects.get().email_refused_at is not None) is flagged
    assert PATIENT not in email.last_error


def test_an_email_reported_late_is_reported_again_when_it_fails(client, request_choices, smtp):
    smtp.behaviour.defer_everything = "451 4.3.0 Try again later"
    submit(client)
    OutgoingEmail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=45))
    smtp.behaviour.defer_everything = ""
    smtp.behaviour.refuse_recipients[DESK] = "421 4.7.0 later"  # admins can be told, the desk cannot
    check_delivery()
    assert "Email delivery needs attention" in smtp.to(OPS)[0].subject

    smtp.behaviour.refuse_recipients[PATIENT] = "550 5.1.1 no such user"
    email = patient_email()
    come_due(email)
    requeue_due()
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    check_delivery()
    assert len(smtp.to(OPS)) == 2  # late, then failed: told both times


def test_when_the_admins_cannot_be_told_the_coordinators_are_not_told_again_and_again(
    client, request_choices, smtp
):
    make_staff("mina", COORDINATOR)
    smtp.behaviour.refuse_recipients[DESK] = "550 5.2.1 Mailbox disabled"
    smtp.behaviour.refuse_recipients[OPS] = "550 5.1.1 no such user"
    submit(client)
    with pytest.raises(CommandError, match="the admins' alert"):
        check_delivery()
    for _ in range(2):  # the coordinators were told: that failure is reported
        check_delivery()
    assert len(smtp.to("mina@clinicportal.example")) == 1


def test_correcting_a_refused_address_sends_the_undelivered_emails_to_the_new_one(
    client, request_choices, smtp, django_capture_on_commit_callbacks
):
    from inquiries.services import inquiry_correct_email

    smtp.behaviour.refuse_recipients[PATIENT] = "550 5.1.1 no such user"
    submit(client)
    confirmation = patient_email()
    assert confirmation.status == EmailStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        inquiry_correct_email(
            inquiry=Inquiry.objects.get(), new_email="aigerim.b@example.com", reason="typo", by=None
        )
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.to) == (EmailStatus.SENT, "aigerim.b@example.com")
    [received] = smtp.to("aigerim.b@example.com")
    assert received.message_id == confirmation.message_id
    # The refusing address is not written to again ("your address was changed").
    assert not OutgoingEmail.objects.filter(kind=EmailKind.EMAIL_CHANGED).exists()


def test_a_worker_that_lost_its_email_does_not_overwrite_what_happened_meanwhile(request_choices, smtp):
    from inquiries import delivery

    email = OutgoingEmail.objects.create(kind="coordinator_new", to=DESK, subject="s", body="b")
    claimed = delivery.claim(email.pk)
    OutgoingEmail.objects.filter(pk=email.pk).update(status=EmailStatus.CANCELLED)  # erased meanwhile
    outcome = delivery.record_failure(
        claimed, delivery.Failure(permanent=True, summary="550 recipient refused")
    )
    assert outcome.result == "superseded"
    email.refresh_from_db()
    assert email.status == EmailStatus.CANCELLED


def test_an_smtp_exchange_is_cut_off_before_the_lease_ends(request_choices, smtp, settings):
    import threading

    from inquiries import delivery

    settings.EMAIL_LEASE_SECONDS = 2
    settings.EMAIL_TIMEOUT = 30  # longer than the lease: only the deadline can stop it
    release = threading.Event()
    smtp.behaviour.stall_after_data = release
    email = OutgoingEmail.objects.create(kind="coordinator_new", to=DESK, subject="s", body="b")
    try:
        outcome = delivery.deliver(email.pk)
    finally:
        release.set()
    email.refresh_from_db()
    assert outcome.result == "retrying"
    assert email.status == EmailStatus.PENDING
    assert email.lease_until is None  # free for a later attempt, with the same Message-ID
