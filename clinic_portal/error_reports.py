"""Server errors reach the team: throttled admin emails sent off the request thread, and optional Sentry.

Neither channel carries what a patient typed or sent: no request body or form data, no cookies or
headers, no user, no local variables, and the private token of a follow-up link is replaced by its name.
What leaves is the error's type, message and traceback, the request method and the (redacted) path.
"""

import logging
import re
import threading
import traceback
from collections import deque
from dataclasses import dataclass
from time import monotonic
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.log import AdminEmailHandler

# URL arguments that grant access on their own (the follow-up link's token): never reported.
SECRET_URL_ARGUMENTS = frozenset({"token"})
# Loggers whose ERROR records are reported even without an exception attached.
ALWAYS_REPORTED_LOGGERS = ("django.request", "django.security")
DEFAULT_THROTTLE_MINUTES = 10
HEALTH_CHECK_PATHS = ("/healthz",)


def secret_url_values(path):
    """The values that secret URL arguments take in `path`, each mapped to its argument's name."""
    try:
        arguments = resolve(path).kwargs
    except Resolver404:
        return {}
    return {str(value): name for name, value in arguments.items() if name in SECRET_URL_ARGUMENTS and value}


def redact(text, secrets):
    """`text` with each secret value replaced by `<name>`."""
    for value, name in secrets.items():
        text = text.replace(value, f"<{name}>")
    return text


URL_PATH = re.compile(r"/[^\s\"'?#]+")


def redact_paths(text):
    """`text` with the secrets of every site path in it replaced (paths in any language)."""
    for path in set(URL_PATH.findall(text)):
        language = path.split("/")[1]
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        with translation.override(language):
            secrets = secret_url_values(path)
        if secrets:
            text = redact(text, secrets)
    return text


class RedactSecretsFilter(logging.Filter):
    """Log lines name request paths ("Service Unavailable: /ar/inquiries/follow-up/…"): a follow-up
    token must not reach the console, the journal or Sentry."""

    def filter(self, record):
        message = record.getMessage()
        if "/" in message:
            redacted = redact_paths(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class ReportableErrorFilter(logging.Filter):
    """Lets through request and security errors, and any record that carries an exception."""

    def filter(self, record):
        if _is_health_check(record):
            return False  # monitoring asks again in a minute; a failing check is its alert, not ours
        return bool(record.exc_info) or record.name.startswith(ALWAYS_REPORTED_LOGGERS)


def _is_health_check(record):
    request = getattr(record, "request", None)
    return request is not None and request.path.startswith(HEALTH_CHECK_PATHS)


# --- Throttling -----------------------------------------------------------------------------------


@dataclass
class _SentError:
    sent_at: float
    suppressed: int = 0


class ErrorThrottle:
    """Remembers when each error was last mailed and how many repeats were held back since."""

    def __init__(self, clock=monotonic):
        self.clock = clock
        self._sent = {}

    def admit(self, key, window_seconds):
        """None while `key` was mailed within the window; otherwise the repeats held back since then."""
        now = self.clock()
        previous = self._sent.get(key)
        if previous and now - previous.sent_at < window_seconds:
            previous.suppressed += 1
            return None
        self._forget_quiet_errors(now, window_seconds)
        self._sent[key] = _SentError(sent_at=now)
        return previous.suppressed if previous else 0

    def _forget_quiet_errors(self, now, window_seconds):
        # Keeps memory bounded; an entry with held-back repeats stays until its error is mailed again.
        quiet = [
            key
            for key, sent in self._sent.items()
            if sent.suppressed == 0 and now - sent.sent_at >= window_seconds
        ]
        for key in quiet:
            del self._sent[key]


def throttle_key(record):
    """The exception's type and where it was raised, or else the logger and its message template."""
    if record.exc_info and record.exc_info[2] is not None:
        exc_type, _, trace = record.exc_info
        while trace.tb_next is not None:
            trace = trace.tb_next
        return (
            f"{exc_type.__module__}.{exc_type.__qualname__}",
            trace.tb_frame.f_code.co_filename,
            trace.tb_lineno,
        )
    status_code = getattr(record, "status_code", None)
    request = getattr(record, "request", None)
    if status_code is not None and request is not None:
        # "Service Unavailable: %s" on two pages are two problems: a full disk is not a readiness probe.
        return (record.name, status_code, request.resolver_match.view_name if request.resolver_match else "")
    return (record.name, str(record.msg))


# --- Background delivery --------------------------------------------------------------------------


class BackgroundSender:
    """One daemon thread that runs jobs in order, holding at most `capacity` of them (running included)."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._jobs = deque()
        self._unfinished = 0
        self._changed = threading.Condition()
        self._thread = None

    def submit(self, job):
        """Queues `job`; False, without queueing it, when the queue is full."""
        with self._changed:
            if self._unfinished >= self.capacity:
                return False
            self._jobs.append(job)
            self._unfinished += 1
            self._start_worker_if_needed()
            self._changed.notify_all()
        return True

    def pending(self):
        """Jobs queued or running."""
        with self._changed:
            return self._unfinished

    def flush(self, timeout=None):
        """Waits until every queued job has run; False if `timeout` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)

    def _start_worker_if_needed(self):
        # Started on first use, not at import: a process forked after configuring logging gets its own.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="error-email-sender", daemon=True)
            self._thread.start()

    def _work(self):
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._jobs)
                job = self._jobs.popleft()
            try:
                job()
            except Exception:
                # Logging the failure could come back to this handler; stderr is where logging's own go.
                traceback.print_exc()
            finally:
                with self._changed:
                    self._unfinished -= 1
                    self._changed.notify_all()


# --- The handler ----------------------------------------------------------------------------------


class ThrottledAdminEmailHandler(AdminEmailHandler):
    """Mails errors to ADMINS from a background thread, each distinct error at most once per window.

    The email holds the subject, the request's method and redacted path, and the traceback: none of
    Django's request report (POST data, cookies, headers, settings) is included.
    """

    def __init__(self, include_html=False, email_backend=None, queue_size=20):
        if include_html:
            raise ValueError("Error emails are plain text: the HTML report would include request data.")
        super().__init__(include_html=False, email_backend=email_backend)
        self.throttle = ErrorThrottle()
        self.sender = BackgroundSender(capacity=queue_size)
        self._dropped_reports = 0

    def emit(self, record):
        try:
            self._report(record)
        except Exception:
            self.handleError(record)

    def _report(self, record):
        if not settings.ADMINS:
            return
        window = 60 * getattr(settings, "ERROR_EMAIL_THROTTLE_MINUTES", DEFAULT_THROTTLE_MINUTES)
        suppressed = self.throttle.admit(throttle_key(record), window)
        if suppressed is None:
            return
        request = getattr(record, "request", None)
        secrets = secret_url_values(request.path_info) if request is not None else {}
        subject = self.format_subject(f"{record.levelname}: {record.getMessage()}")
        body = self._body(record, request, suppressed)
        self.send_mail(redact(subject, secrets), redact(body, secrets))

    def send_mail(self, subject, message, *args, **kwargs):
        """Builds the email now, with the current settings, and leaves the sending to the background."""
        email = EmailMessage(
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body=message,
            from_email=settings.SERVER_EMAIL,
            to=[address for _name, address in settings.ADMINS],
            connection=self.connection(),
        )
        if self.sender.submit(lambda: email.send(fail_silently=True)):
            self._dropped_reports = 0
        else:
            self._dropped_reports += 1

    def flush(self, timeout=5.0):
        """Waits for queued emails (logging calls this at exit too); False if `timeout` passed first."""
        return self.sender.flush(timeout)

    def _body(self, record, request, suppressed):
        lines = [record.getMessage(), ""]
        if request is not None:
            lines += [f"Method: {request.method}", f"Path: {request.path}", ""]
        if suppressed:
            minutes = getattr(settings, "ERROR_EMAIL_THROTTLE_MINUTES", DEFAULT_THROTTLE_MINUTES)
            lines += [
                f"Suppressed repeats: this error happened {suppressed} more time(s) since the last email "
                f"about it, which were not mailed (at most one email per {minutes} minutes).",
                "",
            ]
        if self._dropped_reports:
            lines += [
                f"Dropped: {self._dropped_reports} error email(s) before this one (mail queue full).",
                "",
            ]
        if record.exc_info:
            lines.append("".join(traceback.format_exception(*record.exc_info)))
        return "\n".join(lines)


def flush_error_emails(timeout=5.0):
    """Waits for the emails queued by the error handlers that LOGGING installed; False on a timeout."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, ThrottledAdminEmailHandler)]
    return all([handler.flush(timeout) for handler in handlers])


# --- Sentry ---------------------------------------------------------------------------------------


def init_sentry(dsn, environment):
    """Starts Sentry with nothing personal: no request body, cookies, headers, user or local variables."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    return sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        environment=environment,
        # No personal data: the SDK's default (its send_default_pii switch is deprecated); before_send
        # scrubs what the defaults would still send.
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0,
        before_send=scrub_sentry_event,
    )


def scrub_sentry_event(event, hint):
    """Sentry's before_send: keeps the error and where it happened, drops everything about the person."""
    _scrub_request(event)
    event.pop("user", None)
    # Breadcrumbs repeat log messages and URLs (follow-up tokens) that nothing here has vetted.
    event.pop("breadcrumbs", None)
    for frame in _stack_frames(event):
        frame.pop("vars", None)
    return event


def _scrub_request(event):
    request = event.get("request")
    if not request:
        return
    kept = {"method": request["method"]} if "method" in request else {}
    if "url" in request:
        scheme, host, path, _query, _fragment = urlsplit(request["url"])
        kept["url"] = urlunsplit((scheme, host, redact(path, secret_url_values(path)), "", ""))
    event["request"] = kept


def _stack_frames(event):
    traces = [event.get("stacktrace")]
    for section in ("exception", "threads"):
        traces += [value.get("stacktrace") for value in (event.get(section) or {}).get("values", [])]
    for trace in traces:
        yield from (trace or {}).get("frames", [])
