"""Requests and their emails under load, end to end: gunicorn, the background worker, an SMTP server.

Usage: ``make bench-delivery`` (or ``.venv/bin/python bench/delivery.py --per-client 10``). It starts a
production-like stack of its own, on free ports, in a temporary directory: a scratch PostgreSQL
database on 127.0.0.1:5432 (user postgres), migrated and loaded with the demo content (a temporary
SQLite file instead, said so, when that server is not reachable); gunicorn with 3 workers and DEBUG
off (the static files are collected first, as on a deployment); the worker (``run_worker``); and a
local SMTP server that records each message's recipients and Message-ID. Server errors are mailed to
an ADMINS address there, as in production. The demo's own emails are delivered before the load and
left out of the figures.

``--clients`` patients (20) at once then send ``--per-client`` requests each (10) through the real
form: the page (for the CSRF cookie and token and the submission key), a multipart post with one PDF,
and the thanks page it redirects to. The first ``--double-submits`` clients (3) post their first
request twice at once, with the same submission key, as a double click does: it must be stored once.
The clients speak plain HTTP with the ``X-Forwarded-Proto: https`` header of the TLS proxy in front
of the site, and send the Secure cookies back themselves.

It then waits for the worker to deliver every email (``--timeout`` seconds) and prints what was
accepted, stored and delivered, the latencies and how long the emails took, the rate at which the
requests wrote emails (on average and in the busiest second) and the rate at which the workers
delivered them; then ``OK``, or
``MISMATCH`` (exit status 1) when a request was not accepted, a request, file or patient email is
missing, an email was not delivered or arrived twice, or a server error was reported. Error lines of
the gunicorn and worker logs are shown. Everything it started, and the database, is removed at the
end, also on Ctrl-C.

``--worker-processes`` (1) is passed to ``run_worker --processes``, as in the worker's systemd unit.
With ``--backlog`` the worker is stopped while the requests come in and started again after them: the
delivery rate is then what the workers can drain, not the rate at which emails arrive.
"""

import argparse
import contextlib
import email
import http.client
import os
import re
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import POSTGRES, ScratchDatabase, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FORM_PATH = "/en/inquiries/new/?condition=clonus"
THANKS_PATH = "/en/inquiries/thanks/{reference}/"
THANKS = re.compile(r"^(?:https?://[^/]+)?/en/inquiries/thanks/([^/]+)/$")
COORDINATORS = "desk@clinicportal.example"
ADMINS = "ops@clinicportal.example"  # server errors are mailed here, as in production
PATIENT_KINDS = ("patient_confirmation", "follow_up_link", "patient_update")
# Lines of the gunicorn and worker logs worth showing (Django's console handler prints no level).
LOG_PROBLEM = re.compile(
    r"Traceback|Error\b|\[(ERROR|CRITICAL)\]|WORKER TIMEOUT|Internal Server Error|Bad Request|Forbidden"
    r"|Service Unavailable|Too Many Requests|state=FAILED|not delivered|failed|unavailable"
)


def pdf_bytes(number):
    """A small valid PDF, a little different for each request."""
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% "
        + str(number).encode()
        + b"\ntrailer << >>\n%%EOF\n"
    )


# --- The stack ------------------------------------------------------------------------------------


class Database(ScratchDatabase):
    """The scratch database (bench/common.py), read here with plain SQL."""

    def __init__(self, folder):
        super().__init__(folder)
        self.connection = None

    def rows(self, sql):
        if self.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as connection:
                return connection.execute(sql).fetchall()
        import psycopg

        if self.connection is None:
            self.connection = psycopg.connect(**{**POSTGRES, "dbname": self.name}, autocommit=True)
        return self.connection.execute(sql).fetchall()

    def scalar(self, sql):
        return self.rows(sql)[0][0]

    def drop(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        super().drop()


class Mailbox:
    """aiosmtpd handler: records the arrival time, recipients and Message-ID of every message."""

    def __init__(self):
        self.received = []  # (monotonic time, recipients, Message-ID)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.received.append(
                (time.monotonic(), tuple(envelope.rcpt_tos), (message["Message-ID"] or "").strip())
            )
        return "250 Message accepted for delivery"

    def snapshot(self):
        with self.lock:
            return list(self.received)


class Stack:
    def __init__(self, folder, database, web_port, smtp_port):
        self.folder = folder
        self.processes = []
        self.logs = {}
        kept = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
        self.env = {key: value for key, value in os.environ.items() if key in kept}
        self.env.update(
            DJANGO_SETTINGS_MODULE="clinic_portal.settings",
            PYTHONUNBUFFERED="1",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=f"http://127.0.0.1:{web_port}",
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=database.url,
            STATIC_ROOT=str(folder / "static"),
            MEDIA_ROOT=str(folder / "media"),
            PUBLIC_MEDIA_ROOT=str(folder / "public-media"),
            BACKUP_DIR=str(folder / "backups"),
            ERASURE_LOG=str(folder / "erasure-log.jsonl"),
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            COORDINATOR_EMAILS=COORDINATORS,
            ADMINS=ADMINS,
            TASKS_BACKEND="django_tasks_db.DatabaseBackend",
            INQUIRY_RATE_PER_IP="100000/h",
            INQUIRY_RATE_PER_EMAIL="100000/h",
            INQUIRY_POST_CEILING_PER_IP="100000/h",
        )

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            start_new_session=True,
        )
        if result.returncode:
            sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

    def start(self, name, command):
        log_path = self.folder / f"{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        process.name = name
        self.processes.append(process)
        self.logs[name] = log_path
        return process

    def check_alive(self):
        for process in self.processes:
            if process.poll() is not None:
                sys.exit(
                    f"{process.name} exited ({process.returncode}):\n{self.logs[process.name].read_text()}"
                )

    def stop(self, name=None):
        """SIGTERM: gunicorn finishes its requests, the worker the email in hand; SIGKILL after 25 s.
        Every process, or those of one name."""
        stopping = [process for process in self.processes if name in (None, process.name)]
        for process in stopping:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 25
        for process in stopping:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            self.processes.remove(process)

    def problems_in_logs(self):
        return {
            name: [line for line in path.read_text(errors="replace").splitlines() if LOG_PROBLEM.search(line)]
            for name, path in self.logs.items()
        }


# --- The clients ----------------------------------------------------------------------------------


class FormInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values.setdefault(attrs["name"], attrs.get("value") or "")


class Browser:
    """One patient's browser behind the TLS proxy: its own cookies, one connection per request."""

    def __init__(self, port):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies = {}
        self.lock = threading.Lock()

    def request(self, method, path, body=None, headers=None):
        headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", **(headers or {})}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        with self.lock:
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return response.status, response.headers, content


def form_data(email_address):
    today = date.today()
    return [
        ("full_name", "Aigerim Bekova"),
        ("email", email_address),
        ("phone", "+7 701 234 5678"),
        ("contact_channel", "whatsapp"),
        ("contact_handle", "+77012345678"),
        ("country", "KZ"),
        ("language", "ru"),
        ("patient_relation", "family"),
        ("patient_age", "54"),
        ("condition", "clonus"),
        ("symptom_duration", "1_5_years"),
        ("diagnosis", "Multiple sclerosis since 2019"),
        ("medications", "Baclofen 10 mg three times a day"),
        ("message", "My mother has ankle clonus. Is an intrathecal baclofen pump an option?"),
        ("preferred_clinics", "hanbit-neuroscience-hospital"),
        ("preferred_clinics", "busan-haeundae-neuro-centre"),
        ("travel_from", (today + timedelta(days=30)).isoformat()),
        ("travel_until", (today + timedelta(days=60)).isoformat()),
        ("consent_health_data", "on"),
        ("website", ""),
    ]


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, content_type, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Load:
    """Every request's outcome, from all client threads."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.pages = []  # GET latencies, s
        self.posts = []  # (latency s, status, reference or None, finished at)
        self.errors = Counter()
        self.double_submits = []  # (reference, reference)
        self.thanks_shown = 0
        self.patients = set()  # addresses of accepted requests

    def submit(self, browser, number, email_address, twice=False):
        try:
            started = time.perf_counter()
            status, _headers, page = browser.request("GET", FORM_PATH)
            with self.lock:
                self.pages.append(time.perf_counter() - started)
            if status != 200:
                with self.lock:
                    self.errors[f"form page {status}"] += 1
                return
            inputs = FormInputs()
            inputs.feed(page.decode("utf-8", "replace"))
            fields = [
                ("csrfmiddlewaretoken", inputs.values["csrfmiddlewaretoken"]),
                ("submission_key", inputs.values["submission_key"]),
                *form_data(email_address),
            ]
            body, content_type = multipart(
                fields, [("attachments", f"records-{number}.pdf", "application/pdf", pdf_bytes(number))]
            )
            headers = {
                "Content-Type": content_type,
                "Origin": browser.origin,
                "Referer": browser.origin + FORM_PATH,
            }
            post = partial(self.post, browser, body, headers, email_address)
            if not twice:
                post()
                return
            results = [None, None]
            copies = [threading.Thread(target=lambda i=i: results.__setitem__(i, post())) for i in range(2)]
            for copy in copies:
                copy.start()
            for copy in copies:
                copy.join()
            with self.lock:
                self.double_submits.append(tuple(results))
        except Exception as error:
            with self.lock:
                self.errors[type(error).__name__] += 1

    def post(self, browser, body, headers, email_address):
        started = time.perf_counter()
        try:
            status, response_headers, _content = browser.request("POST", FORM_PATH, body, headers)
        except Exception as error:
            with self.lock:
                self.errors[f"post: {type(error).__name__}"] += 1
            return None
        finished = time.monotonic()
        match = THANKS.match(response_headers.get("Location", "")) if status == 302 else None
        reference = match.group(1) if match else None
        with self.lock:
            self.posts.append((time.perf_counter() - started, status, reference, finished))
            if reference is None:
                self.errors[f"post answered {status}"] += 1
            else:
                self.patients.add(email_address)
        if reference is not None:  # the browser follows the redirect
            thanks, _, _ = browser.request("GET", THANKS_PATH.format(reference=reference))
            with self.lock:
                if thanks == 200:
                    self.thanks_shown += 1
                else:
                    self.errors[f"thanks page {thanks}"] += 1
        return reference

    def client(self, number, per_client, double_submit):
        browser = Browser(self.port)
        for request in range(per_client):
            address = f"patient-{number:02d}-{request:03d}@example.com"
            self.submit(browser, number * 1000 + request, address, twice=double_submit and request == 0)


# --- The run --------------------------------------------------------------------------------------


def wait_for(condition, timeout, what, stack):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.2)
    sys.exit(f"Gave up waiting for {what}.")


def percentiles(values):
    values = sorted(values)
    if not values:
        return "—"
    median, p95 = statistics.median(values), values[max(round(len(values) * 0.95) - 1, 0)]
    return f"p50 {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"


def healthz(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "GET", "/healthz", headers={"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
        )
        return connection.getresponse().status == 200
    finally:
        connection.close()


def emails(database):
    return database.rows(
        "SELECT e.message_id, e.kind, e.status, i.reference FROM inquiries_outgoingemail e "
        "LEFT JOIN inquiries_inquiry i ON i.id = e.inquiry_id"
    )


def run(folder, database, options):
    web_port, smtp_port = free_port(), free_port()
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    stack = Stack(folder, database, web_port, smtp_port)
    try:
        return measure(stack, database, mailbox, web_port, options)
    finally:
        stack.stop()
        controller.stop()
        problems = stack.problems_in_logs()
        if any(problems.values()):
            print("\nError lines in the logs:")
            for name, lines in problems.items():
                for line in lines[:15]:
                    print(f"  {name}: {line}")
                if len(lines) > 15:
                    print(f"  {name}: … {len(lines) - 15} more")


def wait_for_delivery(stack, database, mailbox, timeout):
    """Until no email is pending and every one recorded as sent has arrived, or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        received = {message_id for _, _, message_id in mailbox.snapshot()}
        rows = emails(database)
        if all(status != "pending" for _, _, status, _ in rows) and all(
            message_id in received for message_id, _, status, _ in rows if status == "sent"
        ):
            break
        time.sleep(0.2)
    time.sleep(1)  # a second copy sent right after the first would show now


def created_per_second(database, known):
    """(average, busiest second) of the rate at which the requests wrote emails."""
    times = []
    for message_id, created_at in database.rows("SELECT message_id, created_at FROM inquiries_outgoingemail"):
        if message_id in known:
            continue
        if isinstance(created_at, str):  # SQLite
            created_at = datetime.fromisoformat(created_at)
        times.append(created_at.timestamp())
    if len(times) < 2:
        return 0.0, 0.0
    times.sort()
    span = max(times[-1] - times[0], 1.0)
    per_second = Counter(int(moment) for moment in times)
    return len(times) / span, float(max(per_second.values()))


def delivered_per_second(arrivals):
    """Emails per second from the first arrival to the last."""
    if len(arrivals) < 2:
        return 0.0
    arrivals = sorted(arrivals)
    return (len(arrivals) - 1) / max(arrivals[-1] - arrivals[0], 1e-3)


def files_in(folder):
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def measure(stack, database, mailbox, web_port, options):
    started = time.monotonic()
    stack.manage("migrate", "--noinput")
    stack.manage("load_demo")
    stack.manage("collectstatic", "--noinput")
    # As deploy/systemd/clinic-portal-web.service runs it.
    gunicorn = [BIN / "gunicorn", "clinic_portal.wsgi", "--workers", "3", "--bind", f"127.0.0.1:{web_port}"]
    stack.start("gunicorn", [*gunicorn, "--timeout", "30", "--graceful-timeout", "20", "--no-control-socket"])
    worker = [sys.executable, "manage.py", "run_worker", "--no-reload", "--interval", "0.2"]
    if options.worker_processes != 1:
        worker += ["--processes", str(options.worker_processes)]
    stack.start("worker", worker)
    wait_for(lambda: healthz(web_port), 60, "gunicorn", stack)
    wait_for(
        lambda: database.scalar("SELECT COUNT(*) FROM operations_workerheartbeat"), 60, "the worker", stack
    )
    # The demo's own inquiries and emails: delivered first, then left out of the figures.
    wait_for_delivery(stack, database, mailbox, options.timeout)
    demo_emails = {row[0] for row in emails(database)}
    demo_inquiries = database.scalar("SELECT COUNT(*) FROM inquiries_inquiry")
    demo_attachments = database.scalar("SELECT COUNT(*) FROM inquiries_attachment")
    media = Path(stack.env["MEDIA_ROOT"])
    demo_files = files_in(media)
    if options.backlog:
        stack.stop("worker")
    print(
        f"{database.vendor}, gunicorn with 3 workers, run_worker with {options.worker_processes} "
        f"process(es){' (stopped during the load)' if options.backlog else ''}, DEBUG off; ready in "
        f"{time.monotonic() - started:.0f} s (demo: {demo_inquiries} inquiries, {len(demo_emails)} emails)"
    )

    load = Load(web_port)
    intended = options.clients * options.per_client
    print(
        f"{options.clients} clients × {options.per_client} requests with one PDF each; "
        f"{options.double_submits} of them sent twice at once"
    )
    load_started = time.monotonic()
    clients = [
        threading.Thread(
            target=load.client,
            args=(number, options.per_client, number < options.double_submits),
            daemon=True,
        )
        for number in range(options.clients)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    load_seconds = time.monotonic() - load_started
    if options.backlog:
        stack.start("worker", worker)
    wait_for_delivery(stack, database, mailbox, options.timeout)

    rows = [row for row in emails(database) if row[0] not in demo_emails]
    messages = mailbox.snapshot()
    known = demo_emails | {row[0] for row in rows}
    accepted = {reference for _, _, reference, _ in load.posts if reference}
    same_reference = sum(1 for first, second in load.double_submits if first and first == second)
    stored = database.scalar("SELECT COUNT(*) FROM inquiries_inquiry") - demo_inquiries
    attachments = database.scalar("SELECT COUNT(*) FROM inquiries_attachment") - demo_attachments
    on_disk = len(files_in(media) - demo_files)
    kind_of = {message_id: kind for message_id, kind, _, _ in rows}
    copies = Counter(message_id for _, _, message_id in messages)
    delivered = {message_id for message_id in kind_of if copies[message_id]}
    to_patients = {message_id for message_id in delivered if kind_of[message_id] in PATIENT_KINDS}
    reached = {
        address
        for _, recipients, message_id in messages
        if message_id in to_patients
        for address in recipients
        if address in load.patients
    }
    duplicates = sum(count - 1 for count in copies.values() if count > 1)
    error_reports = sum(ADMINS in recipients for _, recipients, _ in messages)
    strangers = sum(count for message_id, count in copies.items() if message_id not in known) - error_reports
    status = Counter(status for _, _, status, _ in rows)
    arrival = {}
    for at, _recipients, message_id in messages:
        arrival.setdefault(message_id, at)
    answered = {reference: finished for _, _, reference, finished in load.posts if reference}
    delays = [
        arrival[message_id] - answered[reference]
        for message_id, kind, _, reference in rows
        if kind in PATIENT_KINDS and message_id in arrival and reference in answered
    ]
    last_arrival = max((arrival[message_id] for message_id in delivered), default=None)
    last_request = max((finished for *_, finished in load.posts), default=load_started)
    created_rate, created_peak = created_per_second(database, demo_emails)
    drain_rate = delivered_per_second([arrival[message_id] for message_id in delivered])

    print(
        f"posts: {len(load.posts)} in {load_seconds:.1f} s ({len(load.posts) / load_seconds:.1f}/s), "
        f"for {intended} requests"
    )
    if load.errors:
        print(
            "  not accepted: " + ", ".join(f"{what} × {count}" for what, count in sorted(load.errors.items()))
        )
    print(f"double submits: {len(load.double_submits)}, answered with the same reference: {same_reference}")
    print(f"accepted: {len(accepted)} (thanks page shown after {load.thanks_shown} posts)")
    print(f"stored inquiries: {stored}")
    print(f"stored files: {attachments} attachment rows, {on_disk} files on disk")
    kinds = Counter(kind for _, kind, _, _ in rows)
    print(f"emails written: {len(rows)} (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")")
    print(f"emails delivered (distinct Message-IDs): {len(delivered)}, to patients: {len(to_patients)}")
    print(f"patients who received their email: {len(reached)} of {len(load.patients)}")
    print(f"duplicates (further copies of a Message-ID): {duplicates}")
    print(f"error reports mailed to ADMINS: {error_reports}")
    if strangers:
        print(f"other messages received (Message-ID not in the table): {strangers}")
    print(f"failed emails: {status['failed']}, pending: {status['pending']}")
    print(f"form page latency: {percentiles(load.pages)}")
    print(f"submit latency: {percentiles([latency for latency, *_ in load.posts])}")
    print(f"patient email after its request: {percentiles(delays)}")
    if last_arrival is not None:
        print(
            f"last email delivered {last_arrival - load_started:.1f} s after the load started, "
            f"{last_arrival - last_request:.1f} s after the last request"
        )
    print(
        f"emails written by the requests: {created_rate:.1f}/s on average, "
        f"{created_peak:.0f} in the busiest second"
    )
    print(
        f"emails delivered: {drain_rate:.1f}/s from the first to the last"
        + (" (a backlog: what the workers can drain)" if options.backlog else " (as they came)")
        + (f", {drain_rate / created_peak:.1f}× the busiest second's writes" if created_peak else "")
    )

    ok = (
        not load.errors
        and len(accepted) == intended
        and same_reference == len(load.double_submits)
        and len(accepted) == stored == attachments == on_disk == len(to_patients)
        and len(reached) == len(load.patients)
        and duplicates == 0
        and len(delivered) == len(rows)
        and not status["failed"]
        and not status["pending"]
        and not error_reports
    )
    print("OK" if ok else "MISMATCH")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--double-submits", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the emails")
    parser.add_argument("--worker-processes", type=int, default=1, help="run_worker --processes")
    parser.add_argument(
        "--backlog", action="store_true", help="stop the worker during the load: measure how fast it drains"
    )
    options = parser.parse_args()
    # Ctrl-C (even when started in the background) and a stop from outside both clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as folder:
        folder = Path(folder)
        database = Database(folder)
        try:
            ok = run(folder, database, options)
        finally:
            database.drop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted; everything it started is stopped and the database dropped.")
