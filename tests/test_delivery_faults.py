"""The worker as a separate process, on PostgreSQL, with faults injected into its own connections:
the database cut off under it, and the worker killed after the SMTP server accepted a message."""

import os
import signal
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from inquiries import tasks
from inquiries.models import EmailStatus, OutgoingEmail
from operations.models import WorkerHeartbeat
from tests.support.outages import (
    database_url,
    manage_env,
    start_manage,
    wait_for,
)
from tests.support.smtp import SmtpServer
from tests.test_delivery import check_delivery

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 4


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def queue_in_database(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def start_worker(database_proxy, smtp, queue_in_database, tmp_path):
    workers = []

    def start(name="worker", **extra_env):
        env = manage_env(
            **extra_env,
            DATABASE_URL=database_url(port=database_proxy.port),
            DATABASE_CONNECT_TIMEOUT=1,
            **{**smtp.settings(), "EMAIL_TIMEOUT": 1, "EMAIL_LEASE_SECONDS": LEASE_SECONDS},
        )
        log_path = tmp_path / f"{name}.log"
        process = start_manage(
            "run_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload", env=env, log_path=log_path
        )
        process.log_path = log_path
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def write_email(to):
    email = OutgoingEmail.objects.create(kind="coordinator_new", to=to, subject="New inquiry", body="Body")
    tasks.schedule(email.pk)
    return email


def open_transactions_other_than_ours():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


def test_the_worker_outlives_a_database_outage_and_delivers_what_was_queued_meanwhile(
    start_worker, database_proxy, smtp
):
    worker = start_worker()
    write_email("before@clinicportal.example")
    wait_for(lambda: smtp.to("before@clinicportal.example"), timeout=30, message="the first email")
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=10, message="a heartbeat")

    database_proxy.cut()
    outage_started = timezone.now()
    write_email("during@clinicportal.example")  # the site still reaches the database; the worker does not
    time.sleep(6)
    assert worker.poll() is None, worker.log_path.read_text()
    assert not smtp.to("during@clinicportal.example")

    database_proxy.restore()
    wait_for(lambda: smtp.to("during@clinicportal.example"), timeout=60, message="the email queued meanwhile")
    assert worker.poll() is None
    wait_for(
        lambda: WorkerHeartbeat.objects.latest_beat() > outage_started,
        timeout=15,
        message="a heartbeat after it",
    )
    log = worker.log_path.read_text()
    assert "Database unavailable" in log
    assert "Database back after" in log, log
    # The SMTP server has the email before the worker marks it sent.
    wait_for(
        lambda: OutgoingEmail.objects.filter(status=EmailStatus.SENT).count() == 2,
        timeout=15,
        message="both emails marked sent",
    )
    assert len(smtp.to("during@clinicportal.example")) == 1


def test_a_worker_killed_after_the_smtp_server_accepted_never_leaves_the_email_stuck_nor_sent_apart(
    start_worker, smtp
):
    release = threading.Event()
    smtp.behaviour.stall_after_data = release
    first = start_worker("first")
    email = write_email("desk@clinicportal.example")
    wait_for(smtp.stalled.is_set, timeout=30, message="the SMTP server to hold the message")
    # While the SMTP server keeps the worker waiting, no transaction of the worker's is open.
    assert open_transactions_other_than_ours() == 0
    os.kill(first.pid, signal.SIGKILL)  # accepted by the server, not yet recorded by us
    first.wait(timeout=10)
    smtp.behaviour.stall_after_data = None
    release.set()

    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING
    assert email.lease_until > timezone.now()
    # While the lease lives, neither the reaper nor another worker touches it.
    check_delivery()
    second = start_worker("second")
    time.sleep(1)
    assert len(smtp.to("desk@clinicportal.example")) == 1

    # Once it expires, it is sent once more, under the same Message-ID, and recorded.
    wait_for(
        lambda: timezone.now() > email.lease_until, timeout=LEASE_SECONDS + 2, message="the lease to expire"
    )
    check_delivery()
    wait_for(
        lambda: OutgoingEmail.objects.get(pk=email.pk).status == EmailStatus.SENT,
        timeout=30,
        message="the record",
    )
    received = smtp.to("desk@clinicportal.example")
    assert len(received) == 2
    assert {message.message_id for message in received} == {email.message_id}
    assert OutgoingEmail.objects.get(pk=email.pk).attempts == 2

    # And never again.
    check_delivery()
    time.sleep(1)
    assert len(smtp.to("desk@clinicportal.example")) == 2
    assert second.poll() is None


def test_a_worker_killed_on_the_first_of_two_emails_sent_together_leaves_the_second_to_the_reaper(
    start_worker, smtp
):
    release = threading.Event()
    smtp.behaviour.stall_after_data = release
    with tasks.delivered_together():
        first = OutgoingEmail.objects.create(kind="patient_confirmation", to="anna@example.com", subject="S")
        tasks.schedule(first.pk)
        second = OutgoingEmail.objects.create(
            kind="coordinator_new", to="desk@clinicportal.example", subject="S"
        )
        tasks.schedule(second.pk)
    worker = start_worker("first")
    wait_for(smtp.stalled.is_set, timeout=30, message="the SMTP server to hold the first message")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    smtp.behaviour.stall_after_data = None
    release.set()

    # The second was never taken up: the reaper queues it at once, while the first waits for its lease.
    second.refresh_from_db()
    assert (second.status, second.attempts, second.lease_until) == (EmailStatus.PENDING, 0, None)
    check_delivery()
    start_worker("second")
    wait_for(
        lambda: OutgoingEmail.objects.get(pk=second.pk).status == EmailStatus.SENT,
        timeout=30,
        message="the second email",
    )
    assert OutgoingEmail.objects.get(pk=first.pk).status == EmailStatus.PENDING
    wait_for(
        lambda: timezone.now() > OutgoingEmail.objects.get(pk=first.pk).lease_until,
        timeout=LEASE_SECONDS + 2,
        message="the first email's lease to expire",
    )
    check_delivery()
    wait_for(
        lambda: OutgoingEmail.objects.get(pk=first.pk).status == EmailStatus.SENT,
        timeout=30,
        message="the first email, once more",
    )
    assert [message.message_id for message in smtp.to("desk@clinicportal.example")] == [second.message_id]
    assert {message.message_id for message in smtp.to("anna@example.com")} == {first.message_id}


def test_the_worker_tells_systemd_it_is_ready_and_alive(start_worker, tmp_path):
    """For the unit's watchdog: a worker stuck in a hung database stops saying so and is restarted."""
    import socket

    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(address)
        systemd.settimeout(30)
        start_worker(NOTIFY_SOCKET=address)
        messages = {systemd.recv(256).decode(), systemd.recv(256).decode()}
    assert messages == {"READY=1", "WATCHDOG=1"}
