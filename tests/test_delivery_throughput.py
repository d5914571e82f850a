"""A queue of emails drained fast without giving up a delivery promise: one SMTP connection for the
emails a worker sends one after another, and several worker processes sharing the queue."""

import os
import signal
import smtplib
import time

import pytest
from django_tasks_db.models import DBTaskResult

from inquiries import delivery, tasks
from inquiries.models import EmailStatus, OutgoingEmail
from operations.models import WorkerHeartbeat
from operations.worker import ResilientWorker
from tests.support.outages import database_url, manage_env, require_postgresql, start_manage, wait_for
from tests.support.patients import submit
from tests.support.smtp import SmtpServer
from tests.test_delivery import DESK

COUNT = 12


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()


@pytest.fixture
def connections_opened(monkeypatch):
    """How many times this process connected to an SMTP server."""
    opened = []
    connect = smtplib.SMTP.connect

    def counting(self, *args, **kwargs):
        opened.append(args)
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting)
    yield opened
    delivery.close_connection()


def write_emails(count, to=DESK):
    return [
        OutgoingEmail.objects.create(kind="coordinator_new", to=to, subject=f"New inquiry {number}", body="B")
        for number in range(count)
    ]


@pytest.mark.django_db
def test_emails_sent_one_after_another_share_one_connection(smtp, connections_opened):
    emails = write_emails(COUNT)
    for email in emails:
        assert delivery.deliver(email.pk).result == "sent"
    assert len(smtp.to(DESK)) == COUNT
    assert sorted(message.message_id for message in smtp.to(DESK)) == sorted(e.message_id for e in emails)
    assert len(connections_opened) == 1


@pytest.mark.django_db
def test_after_a_refusal_the_next_email_starts_a_new_session(smtp, connections_opened):
    refused, accepted = "nobody@example.com", "desk@clinicportal.example"
    smtp.behaviour.refuse_recipients[refused] = "550 5.1.1 <nobody@example.com>: no such user"
    [first] = write_emails(1, to=refused)
    [second] = write_emails(1, to=accepted)
    assert delivery.deliver(first.pk).result == "failed"
    assert delivery.deliver(second.pk).result == "sent"
    assert len(connections_opened) == 2
    assert len(smtp.to(accepted)) == 1


@pytest.mark.django_db
def test_a_kept_connection_the_server_dropped_is_replaced_and_the_email_goes_out_at_once(
    smtp, connections_opened
):
    first, second = write_emails(2)
    assert delivery.deliver(first.pk).result == "sent"
    smtp.stop()  # drops every session, as a server restart or an idle timeout does
    smtp.start()
    assert delivery.deliver(second.pk).result == "sent"
    second.refresh_from_db()
    assert second.status == EmailStatus.SENT
    assert [message.message_id for message in smtp.to(DESK)] == [first.message_id, second.message_id]
    assert len(connections_opened) == 2


@pytest.mark.django_db
def test_a_connection_idle_too_long_is_not_reused(smtp, connections_opened, monkeypatch):
    monkeypatch.setattr(delivery, "REUSE_CONNECTION_SECONDS", 0)
    for email in write_emails(2):
        assert delivery.deliver(email.pk).result == "sent"
    assert len(connections_opened) == 2


@pytest.fixture
def smtp_for_workers():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_worker_processes_share_the_queue_send_each_email_once_and_stop_together(
    smtp_for_workers, settings, tmp_path
):
    require_postgresql()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    env = manage_env(DATABASE_URL=database_url(), **smtp_for_workers.settings())
    log_path = tmp_path / "worker.log"
    emails = write_emails(COUNT * 3)
    for email in emails:
        tasks.schedule(email.pk)
    parent = start_manage(
        "run_worker", "--processes", "2", "--interval", "0.1", "--no-reload", env=env, log_path=log_path
    )
    try:
        wait_for(
            lambda: OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == len(emails),
            timeout=60,
            message="every email sent",
        )
        received = smtp_for_workers.to(DESK)
        assert sorted(message.message_id for message in received) == sorted(e.message_id for e in emails)
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2, timeout=30, message="two heartbeats")
        workers = list(WorkerHeartbeat.objects.values_list("pid", flat=True))
        assert parent.pid not in workers and len(set(workers)) == 2

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0, log_path.read_text()
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    time.sleep(0.5)
    assert len(smtp_for_workers.to(DESK)) == len(emails)  # nothing sent twice


@pytest.mark.django_db(transaction=True)  # the worker commits as it would in production
def test_the_emails_of_a_new_request_go_out_in_one_task_on_one_connection(
    client, request_choices, smtp, settings, connections_opened
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.COORDINATOR_EMAILS = ["desk@clinicportal.example", "night@clinicportal.example"]
    assert submit(client, email="anna@example.com").status_code == 302
    emails = list(OutgoingEmail.objects.order_by("pk"))
    assert [email.to for email in emails] == ["anna@example.com", *settings.COORDINATOR_EMAILS]
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"] == {"email_ids": [email.pk for email in emails]}
    assert {email.task_id for email in emails} == {str(task.id)}
    assert not any(smtp.to(email.to) for email in emails)  # queued, not sent in the request

    worker = ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    worker.run()
    for email in emails:
        email.refresh_from_db()
        assert email.status == EmailStatus.SENT
        assert [message.message_id for message in smtp.to(email.to)] == [email.message_id]
    assert len(connections_opened) == 1
    task.refresh_from_db()
    assert task.return_value == ["sent", "sent", "sent"]
    assert tasks.requeue_due() == 0
