"""The consultation request path under attack and under faults, and the patient-coordinator loop."""

import errno
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import zlib
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from inquiries.models import (
    Attachment,
    EmailStatus,
    HeldUpload,
    Inquiry,
    InquiryStatus,
    NoticeLink,
    OutgoingEmail,
    TimelineEntry,
)
from inquiries.services import inquiry_anonymise, inquiry_respond, inquiry_transition
from tests.support.patients import (
    follow_up_url_from,
    path_of,
    pdf_bytes,
    png_bytes,
    stored_files,
    submit,
    tr,
    upload,
    valid_data,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent


def png_claiming(width, height):
    """A small PNG file whose header claims the given size (its pixel data is a few bytes)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# --- images that would exhaust the server ---------------------------------------------------------

TOO_MANY_PIXELS = (
    "“%(name)s” is too large an image: at most %(megapixels)d megapixel is accepted.",
    "“%(name)s” is too large an image: at most %(megapixels)d megapixels are accepted.",
    20,
)


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (7712, 7712)],  # Pillow's own bomb guard; 59.5 Mpx that Pillow would decode
    ids=["10-gigapixel header", "59.5-megapixel image"],
)
def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(
    client, request_choices, settings, width, height
):
    response = submit(client, "ru", files=[upload("scan.png", png_claiming(width, height))])
    assert response.status_code == 400
    html = unescape(response.content.decode())
    # "Too large", not "could not be read": the size was read from the header, no pixel decoded.
    assert tr("ru", TOO_MANY_PIXELS, name="scan.png", megapixels=20) in html
    assert Inquiry.objects.count() == 0
    assert stored_files(settings) == []


# --- the request body limit runs before anything reads the body -----------------------------------


class UnreadableBody:
    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = read


def test_an_oversized_body_is_refused_before_csrf_checking_reads_it(request_choices, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    response = Client(enforce_csrf_checks=True).generic(
        "POST",
        "/vi/inquiries/new/",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH="5000000",
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    html = unescape(response.content.decode())
    assert tr("vi", "Your files are too large") in html
    assert tr("vi", "Your files are too large") != "Your files are too large"
    assert Inquiry.objects.count() == 0


# --- text that would become someone else's email --------------------------------------------------


def test_patient_typed_text_stays_out_of_the_first_email(client, request_choices):
    assert submit(client, full_name="Aigerim Bekova", email="target@example.com").status_code == 302
    [confirmation] = [email for email in mail.outbox if email.to == ["target@example.com"]]
    assert "Aigerim" not in confirmation.body
    assert "Aigerim" not in confirmation.subject
    with translation.override("ru"):
        assert confirmation.body.startswith(translation.gettext("Hello,"))


@pytest.mark.parametrize(
    "value", ["Ann\r\nBcc: victim@example.com", "Ann\u2028Verify now", "Ann\u202ereversed", "Ann\x00"]
)
def test_control_characters_in_a_single_line_field_are_refused(client, request_choices, value):
    response = submit(client, "ar", full_name=value)
    assert response.status_code == 400
    message = "Write this on a single line, without line breaks or special control characters."
    assert tr("ar", message) != message
    assert tr("ar", message) in unescape(response.content.decode())
    assert Inquiry.objects.count() == 0
    assert mail.outbox == []


def test_line_breaks_are_fine_in_the_message_and_joiners_in_a_name(client, request_choices):
    name = "می\u200cخواهم"  # Persian, with a zero-width non-joiner that the spelling needs
    assert submit(client, full_name=name, message="Line one\r\nLine two\tindented").status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.full_name == name
    assert "Line two" in inquiry.message


# --- phone numbers read in the patient's country --------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("RU", "8 912 345 67 89", "+79123456789"),
        ("KR", "010-1234-5678", "+821012345678"),
        ("MN", "8811 2345", "+97688112345"),
        ("RU", "+82 10 1234 5678", "+821012345678"),  # an international number is taken as it is
    ],
)
def test_a_local_phone_number_is_read_in_the_chosen_country(client, request_choices, country, typed, stored):
    assert submit(client, phone=typed, country=country).status_code == 302
    assert str(Inquiry.objects.get().phone) == stored


def test_a_number_that_is_not_valid_in_the_chosen_country_is_refused_in_the_page_language(
    client, request_choices
):
    response = submit(client, "ar", phone="010-1234-5678", country="RU")
    assert response.status_code == 400
    message = (
        "Enter a valid phone number: with the country code (+…), "
        "or a local number from the country of residence you chose."
    )
    assert tr("ar", message) in unescape(response.content.decode())
    assert Inquiry.objects.count() == 0


# --- rate limits count what is stored --------------------------------------------------------------


def test_refused_posts_do_not_use_up_the_limit_on_stored_requests(client, request_choices, settings):
    settings.INQUIRY_RATE_PER_IP = "2/h"
    for _ in range(6):  # a family fighting with the phone field
        assert submit(client, phone="12").status_code == 400
    assert submit(client, email="one@example.com").status_code == 302
    assert submit(client, email="two@example.com").status_code == 302
    limited = submit(client, email="three@example.com")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert Inquiry.objects.count() == 2


def test_a_ceiling_on_raw_posts_stops_floods(client, request_choices, settings):
    settings.INQUIRY_POST_CEILING_PER_IP = "3/h"
    for _ in range(3):
        assert submit(client, phone="12").status_code == 400
    flood = submit(client)
    assert flood.status_code == 429
    assert Inquiry.objects.count() == 0


@pytest.mark.parametrize(
    "same_mailbox",
    ["aigerim.b+clinics@example.com", "AIGERIM.B@EXAMPLE.COM", "aigerim.b@ＥＸＡＭＰＬＥ.com"],
)
def test_the_email_limit_counts_one_mailbox_however_it_is_written(request_choices, settings, same_mailbox):
    settings.INQUIRY_RATE_PER_EMAIL = "1/h"
    assert submit(Client(), email="aigerim.b@example.com").status_code == 302
    assert submit(Client(), email=same_mailbox).status_code == 429
    assert submit(Client(), email="someone.else@example.com").status_code == 302


# --- the client address behind a proxy -------------------------------------------------------------


def test_a_request_without_the_proxy_header_is_counted_under_its_connection_address(
    client, request_choices, settings
):
    settings.CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"
    settings.INQUIRY_RATE_PER_IP = "1/h"
    assert submit(client, email="a@example.com").status_code == 302  # no header: no 500
    assert submit(client, email="b@example.com").status_code == 429  # same connection address
    proxied = Client(HTTP_X_REAL_IP="203.0.113.7")
    assert submit(proxied, email="c@example.com").status_code == 302
    assert submit(proxied, email="d@example.com").status_code == 429
    not_an_address = Client(HTTP_X_REAL_IP="evil, 198.51.100.1")
    assert submit(not_an_address, email="e@example.com").status_code == 429  # counted as REMOTE_ADDR


# --- Redis gone ------------------------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis server of this test's own, on a free port, that the test may stop."""
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("REQUIRE_REDIS"):
            raise RuntimeError("redis-server is required for the Redis fault tests")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    from clinic_portal.cache import RedisWithLocalFallbackCache

    settings.CACHES = {
        "default": {
            "BACKEND": "clinic_portal.cache.RedisWithLocalFallbackCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # The fallback is process memory keyed by the server's address: a port reused by an earlier
    # test in this worker would otherwise bring that test's counts along.
    caches["default"].fallback.clear()
    yield process
    process.kill()
    process.wait()
    caches["default"].fallback.clear()
    RedisWithLocalFallbackCache._redis_down_until = 0.0


def test_with_redis_gone_the_forms_keep_working_with_limits_and_healthz_says_so(
    client, request_choices, settings, own_redis, caplog
):
    settings.INQUIRY_RATE_PER_IP = "2/h"
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert submit(client, email="before@example.com").status_code == 302

    own_redis.terminate()
    own_redis.wait()

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}
    assert submit(client, email="during-1@example.com").status_code == 302
    assert submit(client, email="during-2@example.com").status_code == 302
    assert submit(client, email="during-3@example.com").status_code == 429  # counted in the process
    # Counted in Redis until the first request found it gone (a log line each time it is tried again).
    outages = [record.getMessage() for record in caplog.records if record.name == "clinic_portal.cache"]
    assert outages and all(message.startswith("Redis unavailable") for message in outages)
    assert client.post("/en/inquiries/lost-link/", {"email": "before@example.com"}).status_code == 200
    assert Inquiry.objects.count() == 3


@pytest.fixture
def freeze_redis(own_redis):
    """Stops the test's Redis server (SIGSTOP): connections are accepted, nothing is ever answered."""
    frozen = []

    def freeze():
        own_redis.send_signal(signal.SIGSTOP)
        frozen.append(own_redis)

    yield freeze
    for process in frozen:
        process.send_signal(signal.SIGCONT)


def test_with_redis_frozen_the_request_form_still_stores_requests_and_healthz_says_so(
    client, request_choices, freeze_redis, caplog
):
    assert submit(client, email="before@example.com").status_code == 302

    freeze_redis()
    with caplog.at_level(logging.ERROR, logger="clinic_portal.cache"):
        assert submit(client, email="during@example.com").status_code == 302
    assert any("Redis unavailable" in record.getMessage() for record in caplog.records)

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}
    assert Inquiry.objects.filter(email="during@example.com").count() == 1


# --- production defaults ---------------------------------------------------------------------------


def run_settings(code, **environment):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "SITE_URL", "DJANGO_SETTINGS_MODULE", "ADMINS"}
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="clinic_portal.settings")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_debug_is_off_unless_turned_on_and_then_a_secret_key_is_required():
    read_debug = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    without_key = run_settings(read_debug)
    assert without_key.returncode != 0
    assert "SECRET_KEY must be set" in without_key.stderr
    assert run_settings(read_debug, SECRET_KEY="x" * 50).stdout.strip() == "False"
    assert run_settings(read_debug, DEBUG="1").stdout.strip() == "True"


def test_without_site_url_a_production_configuration_fails_its_system_check():
    check = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    missing = run_settings(check.replace("sys.argv", "['manage.py', 'check']"), SECRET_KEY="x" * 50)
    assert missing.returncode != 0
    assert "clinic_portal.E001" in missing.stderr
    configured = run_settings(
        check.replace("sys.argv", "['manage.py', 'check']"),
        SECRET_KEY="x" * 50,
        SITE_URL="https://clinicportal.example",
    )
    assert configured.returncode == 0, configured.stderr


def test_every_page_sends_a_permissions_policy(client):
    policy = client.get("/en/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


@pytest.mark.urls("tests.support.urls_error")
def test_a_server_error_is_mailed_to_the_admins(settings):
    from clinic_portal.error_reports import flush_error_emails

    settings.ADMINS = [("ops@clinicportal.example", "ops@clinicportal.example")]
    settings.ERROR_EMAIL_THROTTLE_MINUTES = 0
    response = Client(raise_request_exception=False).get("/en/broken/")
    assert response.status_code == 500
    assert "It has been recorded for our technical team." in response.content.decode()
    assert flush_error_emails(timeout=10)
    [report] = mail.outbox
    assert report.to == ["ops@clinicportal.example"]
    assert "RuntimeError" in report.body


# --- the 404 page never links to another host ------------------------------------------------------


@pytest.mark.parametrize("path", ["//evil.example/x", "/en//evil.example/x", "/ko/no-such-page/"])
def test_the_language_switcher_of_a_missing_page_links_only_to_our_home_pages(client, path):
    response = client.generic("GET", "/", PATH_INFO=path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "evil.example" not in html
    assert 'href="/ko/" hreflang="ko"' in html
    assert 'href="/ar/" hreflang="ar"' in html


# --- files kept after a validation error -----------------------------------------------------------


def test_valid_files_are_kept_after_an_error_and_sent_with_the_corrected_form(
    client, request_choices, settings, django_capture_on_commit_callbacks
):
    key = str(uuid.uuid4())
    first_try = submit(
        client,
        "ru",
        files=[
            upload("mri.pdf", pdf_bytes()),
            upload("scan.png", png_bytes()),
            upload("bad.png", b"GIF89a.."),
        ],
        phone="12",
        submission_key=key,
    )
    assert first_try.status_code == 400
    html = unescape(first_try.content.decode())
    assert "mri.pdf" in html and "scan.png" in html
    assert tr("ru", "These files from your last try are kept and will be sent with this form:") in html
    held = {item.original_name: item for item in HeldUpload.objects.all()}
    assert set(held) == {"mri.pdf", "scan.png"}  # the invalid one is reported, not kept

    # Another form (another submission key) sees none of them.
    assert "mri.pdf" not in unescape(submit(client, phone="12").content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        second_try = client.post(
            "/ru/inquiries/new/",
            valid_data(submission_key=key, remove_held=[str(held["scan.png"].pk)]),
        )
    assert second_try.status_code == 302
    inquiry = Inquiry.objects.get()
    assert [attachment.original_name for attachment in inquiry.attachments.all()] == ["mri.pdf"]
    assert HeldUpload.objects.count() == 0
    assert [path.parent.parent.name for path in stored_files(settings)] == ["inquiries"]


def test_kept_files_count_toward_the_limit_of_five(client, request_choices):
    key = str(uuid.uuid4())
    submit(client, files=[upload(f"r{n}.pdf", pdf_bytes()) for n in range(4)], phone="12", submission_key=key)
    assert HeldUpload.objects.count() == 4
    response = submit(client, files=[upload(f"s{n}.pdf", pdf_bytes()) for n in range(2)], submission_key=key)
    assert response.status_code == 400
    assert "You can attach at most 5 files." in unescape(response.content.decode())
    assert Inquiry.objects.count() == 0


def test_held_files_expire(client, request_choices, settings, django_capture_on_commit_callbacks):
    submit(client, files=[upload("mri.pdf", pdf_bytes())], phone="12")
    HeldUpload.objects.update(created_at=timezone.now() - timezone.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_inquiries", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert HeldUpload.objects.count() == 0
    assert stored_files(settings) == []


def test_a_reply_keeps_its_files_after_an_error(client, two_inquiries):
    first, first_link, *_ = two_inquiries
    key = str(uuid.uuid4())
    refused = client.post(
        path_of(first_link),
        {"message": "", "attachments": [upload("new-mri.pdf", pdf_bytes())], "submission_key": key},
    )
    assert refused.status_code == 400
    assert "new-mri.pdf" in unescape(refused.content.decode())
    accepted = client.post(path_of(first_link), {"message": "Here is the new MRI", "submission_key": key})
    assert accepted.status_code == 302
    entry = first.timeline.get(kind="patient_message")
    assert [attachment.original_name for attachment in entry.attachments.all()] == ["new-mri.pdf"]


# --- notices bring the patient to the conversation -------------------------------------------------


def test_a_notice_email_opens_the_conversation_in_one_click(client, two_inquiries, coordinator):
    first, *_ = two_inquiries
    inquiry_respond(inquiry=first, by=coordinator, message="Dr. Kim can see you in March.", to="in_review")
    [notice] = mail.outbox
    assert notice.to == ["first@example.com"]
    assert "Dr. Kim" not in notice.body  # the message stays behind the link
    assert first.full_name not in notice.body
    page = client.get(path_of(follow_up_url_from(notice)))
    assert page.status_code == 200
    assert "Dr. Kim can see you in March." in unescape(page.content.decode())
    assert NoticeLink.objects.get().token_hash not in notice.body  # only the hash is stored


def test_a_notice_link_expires_and_a_new_follow_up_link_replaces_it(client, two_inquiries, coordinator):
    first, *_ = two_inquiries
    inquiry_respond(inquiry=first, by=coordinator, message="News", to="in_review")
    link = path_of(follow_up_url_from(mail.outbox[0]))
    NoticeLink.objects.update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert client.get(link).status_code == 404

    inquiry_respond(inquiry=first, by=coordinator, message="More news")
    fresh = path_of(follow_up_url_from(mail.outbox[1]))
    assert client.get(fresh).status_code == 200
    client.post("/en/inquiries/lost-link/", {"email": "first@example.com"})
    assert client.get(fresh).status_code == 404  # "earlier links no longer work"


def test_asking_the_patient_for_something_always_tells_them(client, two_inquiries, coordinator):
    first, *_ = two_inquiries
    inquiry_transition(inquiry=first, to=InquiryStatus.IN_REVIEW, by=coordinator)
    assert mail.outbox == []  # a plain move into review is not news that needs an email
    inquiry_respond(
        inquiry=first,
        by=coordinator,
        message="Ask for the 2024 MRI",
        public=False,
        to=InquiryStatus.WAITING_FOR_PATIENT,
    )
    [notice] = mail.outbox
    with translation.override("ru"):
        assert (
            translation.gettext(
                "We need more information from you. Please read our last message and reply below."
            )
            in notice.body
        )
    assert "2024 MRI" not in notice.body
    assert client.get(path_of(follow_up_url_from(notice))).status_code == 200


# --- erasure ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_erasure_cancels_emails_that_have_not_gone_out(client, request_choices, settings, coordinator):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert submit(client).status_code == 302
    inquiry = Inquiry.objects.get()
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.PENDING}
    inquiry_anonymise(inquiry=inquiry, by=coordinator)
    call_command("db_worker", batch=True, startup_delay=False, interval=0, verbosity=0)
    assert mail.outbox == []
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.CANCELLED}


def test_a_kept_file_that_expired_is_reported_never_silently_dropped(client, request_choices):
    key = str(uuid.uuid4())
    submit(client, files=[upload("mri.pdf", pdf_bytes())], phone="12", submission_key=key)
    held = HeldUpload.objects.get()
    HeldUpload.objects.update(created_at=timezone.now() - timezone.timedelta(hours=25))
    response = client.post(
        "/en/inquiries/new/",
        valid_data(submission_key=key, held=[str(held.pk)], remove_held=[str(uuid.uuid4())]),
    )
    assert response.status_code == 400
    assert "1 file from your last try is no longer kept. Please attach it again." in unescape(
        response.content.decode()
    )
    assert Inquiry.objects.count() == 0


def test_a_forged_or_stale_remove_box_is_ignored(client, request_choices):
    response = client.post("/en/inquiries/new/", valid_data(remove_held=["not-an-id", str(uuid.uuid4())]))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert response["Location"].endswith(f"/thanks/{inquiry.reference}/")


def test_too_many_files_hold_nothing_new(client, request_choices):
    key = str(uuid.uuid4())
    submit(client, files=[upload(f"r{n}.pdf", pdf_bytes()) for n in range(3)], phone="12", submission_key=key)
    submit(client, files=[upload(f"s{n}.pdf", pdf_bytes()) for n in range(3)], phone="12", submission_key=key)
    assert sorted(HeldUpload.objects.values_list("original_name", flat=True)) == [
        "r0.pdf",
        "r1.pdf",
        "r2.pdf",
    ]


def test_refused_forms_cannot_fill_the_disk(client, request_choices, settings):
    settings.HELD_FILES_PER_IP = "3/h"
    submit(client, files=[upload(f"r{n}.pdf", pdf_bytes()) for n in range(3)], phone="12")
    response = submit(client, files=[upload("more.pdf", pdf_bytes())], phone="12")
    assert response.status_code == 400
    assert "Please attach your files again when you send the form." in unescape(response.content.decode())
    assert HeldUpload.objects.count() == 3


def test_the_same_reply_sent_twice_is_stored_once(client, two_inquiries):
    first, first_link, *_ = two_inquiries
    reply = {"message": "Sent twice", "submission_key": str(uuid.uuid4())}
    assert client.post(path_of(first_link), reply).status_code == 302
    assert client.post(path_of(first_link), reply).status_code == 302
    assert first.timeline.filter(kind="patient_message").count() == 1


# --- a full or read-only disk while a patient sends files ------------------------------------------

TMPFS_BYTES = 256 * 1024
PAGE_BYTES = 4096  # tmpfs hands out whole pages: one free page holds one small file


class SmallDisk:
    """A tmpfs of the test's own. Tests run as root, so permission bits would not stop a write; a full
    or read-only file system does."""

    def __init__(self, root):
        self.root = Path(root)
        self.filler = self.root / "filler"

    def fill(self, leave_free=0):
        """Fill what is left of the disk, then give ``leave_free`` bytes back."""
        with open(self.filler, "ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * PAGE_BYTES)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
        if leave_free:
            os.truncate(self.filler, self.filler.stat().st_size - leave_free)

    def make_read_only(self):
        run_command("mount", "-o", "remount,ro", str(self.root))

    def repair(self):
        """Writable again, with all its space: what an operator would do."""
        run_command("mount", "-o", "remount,rw", str(self.root))
        self.filler.unlink(missing_ok=True)

    def leftovers(self):
        """Every file and folder on the disk but the filler, relative to its root."""
        return sorted(
            str(path.relative_to(self.root)) for path in self.root.rglob("*") if path != self.filler
        )


def run_command(*command):
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextmanager
def small_disk(mount_point):
    """A 256 KB tmpfs mounted at ``mount_point`` for the block. Skipped where mounting is not
    permitted, unless REQUIRE_FAULTS is set."""
    Path(mount_point).mkdir(parents=True, exist_ok=True)
    try:
        run_command("mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mount_point))
    except (OSError, subprocess.CalledProcessError) as error:
        if os.environ.get("REQUIRE_FAULTS"):
            raise RuntimeError(f"the storage fault tests need to mount a tmpfs: {error}") from error
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield SmallDisk(mount_point)
    finally:
        run_command("umount", str(mount_point))


DISK_REFUSED = (
    "We could not store your files just now, so your request was not sent. Nothing was saved. "
    "Please try again in a few minutes; your answers are still in the form, but choose the files again."
)
REPLY_DISK_REFUSED = (
    "We could not store your files just now, so your reply was not sent. Nothing was saved. "
    "Please try again in a few minutes; your reply is still in the form, but choose the files again."
)


@pytest.fixture
def disk(tmp_path, settings):
    """Private media on a 256 KB tmpfs of the test's own, which the test fills or makes read-only."""
    with small_disk(tmp_path / "private-media-disk") as small:
        settings.MEDIA_ROOT = small.root
        yield small


def two_records():
    return [upload("mri.pdf", pdf_bytes()), upload("scan.png", png_bytes())]


def assert_told_to_retry(response, language, message=DISK_REFUSED):
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    html = unescape(response.content.decode())
    assert tr(language, message) in html
    return html


def assert_typed_answers_kept(html):
    assert 'value="Aigerim Bekova"' in html
    assert valid_data()["message"] in html


def assert_nothing_of_the_request_stored():
    assert Inquiry.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert TimelineEntry.objects.count() == 0
    assert OutgoingEmail.objects.count() == 0
    assert mail.outbox == []


def storage_errors(caplog):
    return [
        record
        for record in caplog.records
        if record.name == "inquiries.uploads" and record.levelname == "ERROR"
    ]


@pytest.mark.parametrize(
    ("language", "fault"),
    [("en", "full"), ("ko", "full"), ("en", "room for one file"), ("en", "read-only")],
)
def test_a_disk_that_refuses_the_files_keeps_the_answers_and_stores_nothing(
    client, request_choices, disk, caplog, language, fault
):
    if fault == "read-only":
        disk.make_read_only()
    else:
        # With room for one file the first one is written and must be removed when the second fails.
        disk.fill(leave_free=PAGE_BYTES if fault == "room for one file" else 0)
    key = str(uuid.uuid4())

    with caplog.at_level(logging.ERROR, logger="inquiries.uploads"):
        response = submit(client, language, files=two_records(), submission_key=key)

    assert_typed_answers_kept(assert_told_to_retry(response, language))
    assert_nothing_of_the_request_stored()
    assert disk.leftovers() == []
    [logged] = storage_errors(caplog)
    assert "mri.pdf" not in logged.getMessage() and "Aigerim" not in logged.getMessage()

    disk.repair()
    assert submit(client, language, files=two_records(), submission_key=key).status_code == 302
    assert submit(client, language, files=two_records(), submission_key=key).status_code == 302
    inquiry = Inquiry.objects.get()
    assert sorted(attachment.original_name for attachment in inquiry.attachments.all()) == [
        "mri.pdf",
        "scan.png",
    ]


def test_a_full_disk_while_holding_files_after_a_validation_error_holds_nothing(
    client, request_choices, disk, caplog
):
    disk.fill(leave_free=PAGE_BYTES)  # the first file fits, the second does not
    key = str(uuid.uuid4())

    with caplog.at_level(logging.ERROR, logger="inquiries.uploads"):
        response = submit(client, files=two_records(), phone="12", submission_key=key)

    html = assert_told_to_retry(response, "en")
    assert_typed_answers_kept(html)
    assert tr("en", "Please correct the fields marked below. Nothing has been sent yet.") in html
    assert HeldUpload.objects.count() == 0
    assert_nothing_of_the_request_stored()
    assert disk.leftovers() == []
    assert len(storage_errors(caplog)) == 1

    disk.repair()
    assert submit(client, files=two_records(), phone="12", submission_key=key).status_code == 400
    assert HeldUpload.objects.count() == 2
    assert submit(client, submission_key=key).status_code == 302
    assert Inquiry.objects.get().attachments.count() == 2


def test_a_full_disk_when_held_files_are_sent_keeps_them_held_for_the_next_try(
    client, request_choices, disk, django_capture_on_commit_callbacks
):
    key = str(uuid.uuid4())
    assert submit(client, files=two_records(), phone="12", submission_key=key).status_code == 400
    held_on_disk = disk.leftovers()
    disk.fill()

    response = submit(client, submission_key=key)

    html = assert_told_to_retry(response, "en")
    assert_typed_answers_kept(html)
    assert "mri.pdf" in html and "scan.png" in html  # still listed as kept
    assert_nothing_of_the_request_stored()
    assert HeldUpload.objects.count() == 2
    assert disk.leftovers() == held_on_disk

    disk.repair()
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(client, submission_key=key).status_code == 302
    assert Inquiry.objects.get().attachments.count() == 2
    assert HeldUpload.objects.count() == 0


def test_a_full_disk_during_a_reply_keeps_the_reply_in_the_form(client, two_inquiries, disk):
    first, first_link, *_ = two_inquiries
    disk.fill()
    reply = {
        "message": "Here is the new MRI",
        "attachments": two_records(),
        "submission_key": str(uuid.uuid4()),
    }

    response = client.post(path_of(first_link), reply)

    html = assert_told_to_retry(response, "ru", REPLY_DISK_REFUSED)
    assert "Here is the new MRI" in html
    assert not first.timeline.filter(kind="patient_message").exists()
    assert Attachment.objects.count() == 0
    assert disk.leftovers() == []
