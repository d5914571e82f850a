"""/healthz/ready: every part the site needs, 503 with the failing part named; not for the public."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from inquiries.models import OutgoingEmail
from operations.models import WorkerHeartbeat
from tests.support.outages import database_through
from tests.test_request_path import own_redis  # noqa: F401 - the fixture

TOKEN = "health-token-for-tests"


@pytest.fixture
def monitoring(settings):
    settings.HEALTH_TOKEN = TOKEN
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", raise_request_exception=False)


def beat(seconds_ago=5):
    WorkerHeartbeat.objects.update_or_create(
        worker_id="w1",
        defaults={
            "hostname": "web-1",
            "pid": 4242,
            "started_at": timezone.now() - datetime.timedelta(hours=1),
            "beat_at": timezone.now() - datetime.timedelta(seconds=seconds_ago),
        },
    )


def failing(response):
    return response.json()["failing"]


def test_all_parts_ready(db, monitoring):
    beat()
    response = monitoring.get("/healthz/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "media", "worker", "email"}
    assert body["checks"]["worker"]["detail"] == "last heartbeat 5 s ago"


@pytest.mark.parametrize(
    ("headers", "address"),
    [({}, "127.0.0.1"), ({"HTTP_AUTHORIZATION": "Bearer wrong"}, "127.0.0.1"), ({}, "203.0.113.9")],
)
def test_without_the_token_it_is_not_there(db, monitoring, headers, address):
    assert Client(REMOTE_ADDR=address, **headers).get("/healthz/ready").status_code == 404


def test_without_a_configured_token_only_this_machine_may_ask_and_only_in_development(db, settings):
    settings.HEALTH_TOKEN = ""
    assert Client(REMOTE_ADDR="127.0.0.1").get("/healthz/ready").status_code == 404
    settings.DEBUG = True
    assert Client(REMOTE_ADDR="127.0.0.1").get("/healthz/ready").status_code in (200, 503)
    assert Client(REMOTE_ADDR="203.0.113.9").get("/healthz/ready").status_code == 404


def test_a_silent_worker_fails_readiness(db, monitoring):
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["worker"])
    assert response.json()["checks"]["worker"]["detail"] == "no heartbeat: is the worker running?"
    beat(seconds_ago=600)
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["worker"])
    assert response.json()["checks"]["worker"]["detail"] == "last heartbeat 600 s ago"


def test_an_email_waiting_too_long_fails_readiness(db, monitoring):
    beat()
    email = OutgoingEmail.objects.create(kind="coordinator_new", to="desk@example.com", subject="s", body="b")
    assert monitoring.get("/healthz/ready").status_code == 200
    OutgoingEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=45)
    )
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["email"])
    assert response.json()["checks"]["email"]["detail"] == "oldest pending email written 45 min ago"


def test_media_storage_without_room_or_not_writable_fails_readiness(db, monitoring, settings, tmp_path):
    beat()
    settings.MEDIA_MIN_FREE_MB = 10**12
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["media"])
    assert "below" in response.json()["checks"]["media"]["detail"]

    settings.MEDIA_MIN_FREE_MB = 1
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "private-media"
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["media"])
    assert response.json()["checks"]["media"]["detail"].startswith("not writable")


def test_redis_gone_fails_readiness(db, monitoring, own_redis):  # noqa: F811
    beat()
    assert monitoring.get("/healthz/ready").status_code == 200
    own_redis.terminate()
    own_redis.wait()
    response = monitoring.get("/healthz/ready")
    assert (response.status_code, failing(response)) == (503, ["cache"])


@pytest.mark.django_db(transaction=True)
def test_the_database_gone_fails_readiness_and_names_what_cannot_be_known(monitoring, database_proxy):
    beat()
    with database_through(database_proxy):
        assert monitoring.get("/healthz/ready").status_code == 200
        database_proxy.cut()
        response = monitoring.get("/healthz/ready")
        assert monitoring.get("/healthz").status_code == 503
    assert response.status_code == 503
    assert failing(response) == ["database", "worker", "email"]


def test_a_failing_readiness_check_is_not_mailed_as_a_server_error(db, monitoring, settings, mailoutbox):
    from clinic_portal.error_reports import flush_error_emails

    settings.ADMINS = [("ops@clinicportal.example", "ops@clinicportal.example")]
    settings.ERROR_EMAIL_THROTTLE_MINUTES = 0
    assert monitoring.get("/healthz/ready").status_code == 503  # no worker heartbeat
    assert flush_error_emails(timeout=10)
    assert mailoutbox == []


def test_follow_up_tokens_never_reach_the_console():
    import io
    import logging

    from clinic_portal.error_reports import RedactSecretsFilter

    [console] = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(each, RedactSecretsFilter) for each in handler.filters)
    ]
    output = io.StringIO()
    previous = console.setStream(output)
    try:
        logging.getLogger("django.request").warning(
            "Service Unavailable: %s", "/ar/inquiries/follow-up/CP-ABCD-EFGH/a-secret-token-value/"
        )
    finally:
        console.setStream(previous)
    assert "a-secret-token-value" not in output.getvalue()
    assert "/ar/inquiries/follow-up/CP-ABCD-EFGH/<token>/" in output.getvalue()
