"""A server error reaches the team by email (and Sentry when configured), without the patient's data."""

import gzip
import io
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import brotli
import pytest
import sentry_sdk
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from clinic_portal.error_reports import (
    ErrorThrottle,
    ThrottledAdminEmailHandler,
    flush_error_emails,
    init_sentry,
)

# The session cookie the tests send makes the staff middleware look the session up.
pytestmark = [pytest.mark.urls("tests.support.urls_error"), pytest.mark.django_db]

ADMIN = "ops@clinicportal.example"
DIAGNOSIS = "secret-diagnosis-xyz"
PASSWORD = "secret-password-xyz"
COOKIE = "secret-cookie-xyz"
TOKEN = "secret-token-xyz"
SECRETS = (DIAGNOSIS, PASSWORD, COOKIE, TOKEN)
FAILING_FORM = f"/en/broken-form/PR-1001/{TOKEN}/"
FORM = {"diagnosis": DIAGNOSIS, "password": PASSWORD, "name": "Anna"}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, minutes):
        self.now += 60 * minutes


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def reporter(settings, monkeypatch, clock):
    """The handler that LOGGING installed, with a throttle of its own that follows `clock`."""
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, ThrottledAdminEmailHandler)]
    monkeypatch.setattr(handler, "throttle", ErrorThrottle(clock=clock))
    settings.ADMINS = [(ADMIN, ADMIN)]
    settings.ERROR_EMAIL_THROTTLE_MINUTES = 10
    yield handler
    # Nothing of this test may land in a later test's outbox.
    assert handler.flush(timeout=10)


def post_failing_form():
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = COOKIE
    return client.post(FAILING_FORM, FORM)


def fail(path="/en/broken/"):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    return response


def mailed():
    assert flush_error_emails(timeout=10)
    return list(mail.outbox)


# --- email ----------------------------------------------------------------------------------------


def test_a_server_error_serves_the_500_page_and_mails_the_admins_without_the_patients_data(reporter):
    response = post_failing_form()

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    [report] = mailed()
    assert report.to == [ADMIN]
    assert "LookupError: no clinic matches the request (3 fields)" in report.body
    assert "Method: POST" in report.body
    assert "Path: /en/broken-form/PR-1001/<token>/" in report.body
    assert "Internal Server Error: /en/broken-form/PR-1001/<token>/" in report.subject
    assert 'raise LookupError(f"no clinic matches' in report.body  # the traceback
    whole_email = report.message().as_string()
    for secret in SECRETS:
        assert secret not in whole_email, secret
    assert "Anna" not in whole_email
    assert report.message().get_content_type() == "text/plain"


def test_the_same_error_is_mailed_once_per_window_and_the_next_email_counts_the_repeats(reporter, clock):
    fail()
    fail()
    clock.advance(minutes=9)
    fail()
    assert len(mailed()) == 1

    clock.advance(minutes=2)
    fail()

    first, second = mailed()
    assert "Suppressed" not in first.body
    assert "happened 2 more time(s) since the last email" in second.body
    assert "RuntimeError: boom" in second.body


def test_different_errors_are_throttled_separately(reporter):
    fail()
    post_failing_form()
    fail()

    first, second = mailed()
    assert "RuntimeError" in first.body
    assert "LookupError" in second.body


def test_a_throttle_of_zero_minutes_mails_every_error(reporter, settings):
    settings.ERROR_EMAIL_THROTTLE_MINUTES = 0
    fail()
    fail()
    assert len(mailed()) == 2


def test_without_admins_nothing_is_mailed(reporter, settings):
    settings.ADMINS = []
    fail()
    assert mailed() == []


def test_any_logged_exception_is_mailed_but_not_a_plain_error_message(reporter):
    logger = logging.getLogger("inquiries.delivery")
    try:
        raise ConnectionRefusedError("mail server refused")
    except ConnectionRefusedError:
        logger.exception("Sending email %s failed", 42)
    logger.error("Retrying in %s s", 30)

    [report] = mailed()
    assert report.subject.endswith("ERROR: Sending email 42 failed")
    assert "ConnectionRefusedError: mail server refused" in report.body
    assert "Method:" not in report.body


class StalledServer:
    """A TCP server that accepts one connection and never says a word (nor reads one)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.connection = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.connection, _ = self.listener.accept()
        self.connected.set()

    def close(self):
        if self.connection is not None:
            self.connection.close()
        self.listener.close()


@pytest.fixture
def stalled_smtp_server():
    server = StalledServer()
    yield server
    server.close()


def test_a_stalled_mail_server_does_not_hold_up_the_error_page(reporter, settings, stalled_smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = stalled_smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5

    fail()

    # The page is served while the email still waits for the server's greeting.
    assert reporter.sender.pending() == 1
    assert stalled_smtp_server.connected.wait(timeout=5)
    assert reporter.sender.pending() == 1
    connection = stalled_smtp_server.connection
    connection.setblocking(False)
    with pytest.raises(BlockingIOError):
        connection.recv(1)  # the client never got past the greeting
    # A server that hangs up ends the attempt at once, without waiting for EMAIL_TIMEOUT.
    connection.close()
    assert reporter.flush(timeout=10)
    assert reporter.sender.pending() == 0


# --- Sentry ---------------------------------------------------------------------------------------


class EnvelopeRecorder(BaseHTTPRequestHandler):
    """Stores every POST body (decompressed) and answers 200, as Sentry's ingestion does."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.server.bodies.append(body.decode())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def sentry_ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EnvelopeRecorder)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sentry(sentry_ingest):
    """Sentry set up as production does, sending to the local recorder; the previous client restored."""
    global_scope = sentry_sdk.get_global_scope()
    previous_client = global_scope.client
    init_sentry(f"http://publickey@127.0.0.1:{sentry_ingest.server_port}/1", environment="test")
    yield sentry_ingest
    sentry_sdk.get_client().close(timeout=5)
    global_scope.set_client(previous_client)


def sentry_events(bodies):
    """The error events in the recorded envelopes (a header line, then item header and payload pairs)."""
    events = []
    for body in bodies:
        lines = body.splitlines()[1:]
        for item_header, payload in zip(lines[::2], lines[1::2], strict=False):
            if json.loads(item_header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def post_failing_form_through_wsgi():
    """The form posted to the bare WSGI handler, which Sentry's Django integration wraps in production."""
    body = urlencode(FORM).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": FAILING_FORM,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": f"sessionid={COOKIE}",
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    statuses = []
    WSGIHandler()(environ, lambda status, headers: statuses.append(status))
    return statuses[0]


# The bare handler closes the database connection after the request, as it does in production.
@pytest.mark.django_db(transaction=True)
def test_sentry_receives_the_error_without_request_data_cookies_user_or_local_variables(sentry):
    assert post_failing_form_through_wsgi().startswith("500")
    sentry_sdk.flush(timeout=5)

    [event] = sentry_events(sentry.bodies)
    [exception] = event["exception"]["values"]
    assert exception["type"] == "LookupError"
    assert event["environment"] == "test"
    assert event["request"] == {"method": "POST", "url": "http://127.0.0.1/en/broken-form/PR-1001/<token>/"}
    assert "user" not in event
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    everything_sent = "".join(sentry.bodies)
    for secret in SECRETS:
        assert secret not in everything_sent, secret
    assert "Anna" not in everything_sent
