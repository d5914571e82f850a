import datetime
import hashlib
import io
import os
import re
import uuid
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone, translation
from PIL import Image

from inquiries import services, uploads
from inquiries.forms import CONSENT_HEALTH_DATA
from inquiries.models import Attachment, EmailStatus, Inquiry, InquiryStatus, OutgoingEmail, TimelineEntry
from inquiries.services import inquiry_transition
from tests.support.patients import (
    follow_up_url_from,
    jpeg_with_gps,
    path_of,
    pdf_bytes,
    png_bytes,
    stored_files,
    submit,
    tr,
    upload,
    valid_data,
)
from tests.support.staff import signed_in

pytestmark = pytest.mark.django_db


# --- files ----------------------------------------------------------------------------------------


# --- fixtures -------------------------------------------------------------------------------------


# --- a full submission ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_language", "chosen_language"), [("en", "en"), ("ko", "ko"), ("ar", "ar"), ("ko", "ru")]
)
def test_full_submission_stores_what_was_sent_and_emails_in_the_chosen_language(
    client, request_choices, settings, page_language, chosen_language
):
    settings.COORDINATOR_EMAILS = ["desk@clinicportal.example"]
    response = submit(
        client,
        page_language,
        files=[upload("mri-report.pdf", pdf_bytes()), upload("leg.png", png_bytes())],
        language=chosen_language,
    )

    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/{page_language}/inquiries/thanks/{inquiry.reference}/"
    assert re.fullmatch(r"CP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", inquiry.reference)
    assert inquiry.full_name == "Aigerim Bekova"
    assert inquiry.email == "aigerim@example.com"
    assert str(inquiry.phone) == "+77012345678"
    assert inquiry.contact_channel == "whatsapp"
    assert inquiry.country.code == "KZ"
    assert inquiry.language == chosen_language
    assert inquiry.patient_relation == "family"
    assert inquiry.patient_age == 54
    assert inquiry.condition.slug == "clonus"
    assert inquiry.symptom_duration == "1_5_years"
    assert inquiry.medications == "Baclofen 10 mg three times a day"
    assert sorted(inquiry.preferred_clinics.values_list("slug", flat=True)) == [
        "busan-haeundae-neuro-centre",
        "hanbit-neuroscience-hospital",
    ]
    assert inquiry.status == InquiryStatus.RECEIVED
    assert inquiry.consent_health_data_version == services.CONSENT_VERSION
    with translation.override(page_language):
        assert inquiry.consent_health_data_text == str(CONSENT_HEALTH_DATA)
    assert inquiry.consent_news is False
    assert sorted(inquiry.attachments.values_list("original_name", "content_type")) == [
        ("leg.png", "image/png"),
        ("mri-report.pdf", "application/pdf"),
    ]
    assert len(stored_files(settings)) == 2
    assert len(inquiry.follow_up_token_hash) == 64

    patient_email, coordinator_email = sorted(mail.outbox, key=lambda email: email.to != [inquiry.email])
    assert patient_email.to == ["aigerim@example.com"]
    assert coordinator_email.to == ["desk@clinicportal.example"]
    with translation.override(chosen_language):
        expected_subject = translation.gettext("We have your request %(reference)s") % {
            "reference": inquiry.reference
        }
        expected_line = translation.gettext(
            "Do not share this link: anyone who has it can read your request. If you lose it, you can ask for a new one on our website."
        )
    assert patient_email.subject == expected_subject
    assert expected_line in patient_email.body
    if chosen_language != "en":
        assert "Do not share this link" not in patient_email.body
    link = follow_up_url_from(patient_email)
    assert f"/{chosen_language}/inquiries/follow-up/{inquiry.reference}/" in link
    assert "Multiple sclerosis" not in patient_email.body + coordinator_email.body  # no health data by email
    assert coordinator_email.subject == f"New inquiry {inquiry.reference}"
    # The token is kept only as a hash; the email body is cleared once sent.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40
    assert inquiry.follow_up_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert set(OutgoingEmail.objects.values_list("status", "body")) == {(EmailStatus.SENT, "")}

    thanks = unescape(client.get(response["Location"]).content.decode())
    assert inquiry.reference in thanks
    with translation.override(page_language):
        assert translation.gettext("What happens next") in thanks


def test_thank_you_page_is_only_for_the_session_that_sent_the_request(client, request_choices):
    response = submit(client)
    assert client.get(response["Location"]).status_code == 200
    assert Client().get(response["Location"]).status_code == 404


def test_request_form_sits_on_condition_and_clinic_pages(client, request_choices):
    condition_page = unescape(client.get("/en/conditions/clonus/").content.decode())
    assert "Request a consultation about Clonus" in condition_page
    assert 'action="/en/inquiries/new/"' in condition_page
    assert '<option value="clonus" selected>' in condition_page
    assert 'value="hanbit-neuroscience-hospital"' in condition_page
    assert 'value="songdo-joint-hospital"' not in condition_page  # does not treat clonus

    clinic_page = unescape(client.get("/ko/clinics/hanbit-neuroscience-hospital/").content.decode())
    assert re.search(r'value="hanbit-neuroscience-hospital"[^>]*checked', clinic_page)
    assert 'value="busan-haeundae-neuro-centre"' not in clinic_page
    assert '<option value="ko" selected>' in clinic_page  # reply language defaults to the page language


def test_new_request_page_preselects_condition_and_clinic_from_the_link(client, request_choices):
    html = unescape(
        client.get("/ja/inquiries/new/?condition=clonus&clinic=gangnam-movement-clinic").content.decode()
    )
    assert '<option value="clonus" selected>' in html
    assert re.search(r'value="gangnam-movement-clinic"[^>]*checked', html)
    assert '<option value="ja" selected>' in html
    assert 'name="consent_health_data"' in html
    assert not re.search(r'name="consent_health_data"[^>]*checked', html)


# --- refused input --------------------------------------------------------------------------------


BIG = 10 * 1024 * 1024

INVALID_EMAIL = "This is not a valid email address. Check it, e.g. name@example.com."


INVALID_CASES = {
    "file too big": (
        {"files": lambda: [upload("big.pdf", pdf_bytes(padding=BIG))]},
        "“%(name)s” is too large (%(size)s). Each file may be at most %(limit)s.",
        {"name": "big.pdf", "size": len(pdf_bytes(padding=BIG)), "limit": BIG},
    ),
    "too many files": (
        {"files": lambda: [upload(f"r{n}.pdf", pdf_bytes()) for n in range(6)]},
        ("You can attach at most %(limit)d file.", "You can attach at most %(limit)d files.", 5),
        {},
    ),
    "pdf name with png content": (
        {"files": lambda: [upload("scan.pdf", png_bytes(), "application/pdf")]},
        "“%(name)s” is named like a %(extension)s file but its content is different. Please check the file.",
        {"name": "scan.pdf", "extension": ".pdf"},
    ),
    "pdf name with html content": (
        {
            "files": lambda: [
                upload("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
            ]
        },
        "“%(name)s” is not a PDF, JPEG or PNG file. Only these file types are accepted.",
        {"name": "report.pdf"},
    ),
    "empty file": (
        {"files": lambda: [upload("empty.pdf", b"", "application/pdf")]},
        "“%(name)s” is empty.",
        {"name": "empty.pdf"},
    ),
    "bad email": ({"email": "aigerim@"}, INVALID_EMAIL, {}),
    "age over 120": ({"patient_age": "121"}, "Enter an age from 0 to 120.", {}),
    "bad phone": (
        {"phone": "12345"},
        "Enter a valid phone number: with the country code (+…), "
        "or a local number from the country of residence you chose.",
        {},
    ),
    "missing consent": (
        {"consent_health_data": None},
        "We can only answer if you agree to the processing of your health information.",
        {},
    ),
    "tampered clinic id": (
        {"preferred_clinics": ["unlisted-neurology-clinic"]},
        "Select a valid choice. %(value)s is not one of the available choices.",
        {"value": "unlisted-neurology-clinic"},
    ),
    "clinic that does not treat the condition": (
        {"preferred_clinics": ["songdo-joint-hospital"]},
        "Choose clinics that treat the condition you selected.",
        {},
    ),
    "four clinics": (
        {
            "preferred_clinics": [
                "hanbit-neuroscience-hospital",
                "busan-haeundae-neuro-centre",
                "gangnam-movement-clinic",
                "bundang-neurology-clinic",
            ]
        },
        "Choose at most three clinics.",
        {},
    ),
    "travel dates reversed": (
        {
            "travel_from": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
            "travel_until": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
        "This date must be after the first one.",
        {},
    ),
}


@pytest.mark.parametrize("case", list(INVALID_CASES))
def test_invalid_input_gets_a_translated_error_and_stores_nothing(client, request_choices, settings, case):
    overrides, message, params = INVALID_CASES[case]
    overrides = dict(overrides)
    files = overrides.pop("files", lambda: [upload("ok.pdf", pdf_bytes())])()

    response = submit(client, "ko", files=files, **overrides)

    html = unescape(response.content.decode())
    assert response.status_code == 400
    korean = tr("ko", message, **params)
    assert korean in html
    assert korean != tr("en", message, **params)  # really translated
    assert 'value="Aigerim Bekova"' in html  # what the patient typed is kept
    assert "Baclofen 10 mg three times a day" in html
    assert Inquiry.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert mail.outbox == []
    # A valid file is held for the corrected resubmission, listed by name, never linked.
    valid_files = [] if "files" in INVALID_CASES[case][0] else files
    assert [path.parent.parent.name for path in stored_files(settings)] == ["held"] * len(valid_files)
    if valid_files:
        assert "ok.pdf" in html
        assert "/held/" not in html


def test_missing_required_fields_are_each_marked_in_the_page_language(client, request_choices):
    response = client.post("/ar/inquiries/new/", {"submission_key": str(uuid.uuid4())})
    html = unescape(response.content.decode())
    with translation.override("ar"):
        required = translation.gettext("This field is required.")
    assert response.status_code == 400
    assert html.count(required) >= 8
    # an error summary at the top links to each field in error
    assert '<a href="#id_full_name">' in html
    assert '<a href="#id_consent_health_data">' in html
    assert Inquiry.objects.count() == 0


def test_exif_location_and_trailing_data_are_removed_from_images(client, request_choices, settings):
    original_jpeg = jpeg_with_gps()
    assert Image.open(io.BytesIO(original_jpeg)).getexif()
    submit(
        client,
        files=[
            upload("photo.jpg", original_jpeg),
            upload("scan.png", png_bytes(trailing=b"<?php evil(); ?>")),
        ],
    )
    attachments = {attachment.original_name: attachment for attachment in Attachment.objects.all()}
    jpeg_data = Path(settings.MEDIA_ROOT, attachments["photo.jpg"].file.name).read_bytes()
    png_data = Path(settings.MEDIA_ROOT, attachments["scan.png"].file.name).read_bytes()
    assert not Image.open(io.BytesIO(jpeg_data)).getexif()
    assert b"SpyCam" not in jpeg_data
    assert b"evil" not in png_data
    assert Image.open(io.BytesIO(png_data)).size == (40, 30)
    # Stored under generated names, never the patient's file name.
    assert "photo" not in attachments["photo.jpg"].file.name
    assert attachments["photo.jpg"].file.name.endswith(".jpg")


# --- abuse ----------------------------------------------------------------------------------------


def test_double_submit_creates_one_inquiry(client, request_choices):
    key = str(uuid.uuid4())
    first = submit(client, submission_key=key)
    second = submit(client, submission_key=key)
    assert Inquiry.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert len([email for email in mail.outbox if email.to == ["aigerim@example.com"]]) == 1


def test_honeypot_submission_is_not_stored(client, request_choices):
    response = submit(client, website="http://spam.example")
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert mail.outbox == []


def test_rate_limit_per_ip_answers_429_with_retry_after(client, request_choices, settings):
    settings.INQUIRY_RATE_PER_IP = "2/m"
    assert submit(client, email="a@example.com").status_code == 302
    assert submit(client, email="b@example.com").status_code == 302
    response = submit(client, "ko", email="c@example.com")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = unescape(response.content.decode())
    with translation.override("ko"):
        assert translation.gettext("Please try again later") in html
    assert Inquiry.objects.count() == 2


def test_rate_limit_per_email(client, request_choices, settings):
    settings.INQUIRY_RATE_PER_EMAIL = "1/h"
    assert submit(client).status_code == 302
    other_ip = Client(REMOTE_ADDR="10.1.2.3")
    assert submit(other_ip).status_code == 429
    assert submit(other_ip, email="someone-else@example.com").status_code == 302


def test_expired_csrf_token_gets_a_translated_page(request_choices):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/ja/inquiries/new/", valid_data())
    html = unescape(response.content.decode())
    assert response.status_code == 403
    with translation.override("ja"):
        assert translation.gettext("Your session expired") in html
    assert Inquiry.objects.count() == 0


# --- failures midway leave nothing behind ---------------------------------------------------------


def test_disk_failure_midway_leaves_no_inquiry_row_or_file(request_choices, settings, monkeypatch):
    real_store = uploads.store_file
    calls = []

    def store_then_fail(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_store(path, data)

    monkeypatch.setattr(services, "store_file", store_then_fail)
    client = Client(raise_request_exception=False)
    response = submit(client, files=[upload("a.pdf", pdf_bytes()), upload("b.pdf", pdf_bytes())])
    assert response.status_code == 500
    assert len(calls) == 2
    assert Inquiry.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert TimelineEntry.objects.count() == 0
    assert stored_files(settings) == []
    assert mail.outbox == []


def test_database_failure_after_files_were_written_removes_them(request_choices, settings, monkeypatch):
    def broken_create(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(OutgoingEmail.objects, "create", broken_create)
    client = Client(raise_request_exception=False)
    response = submit(client, files=[upload("a.pdf", pdf_bytes())])
    assert response.status_code == 500
    assert Inquiry.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


# --- email delivery -------------------------------------------------------------------------------


@pytest.fixture
def database_task_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_no_task_is_left_when_the_request_transaction_rolls_back(
    request_choices, monkeypatch, database_task_backend
):
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(
        services, "_notify_coordinators", lambda **kwargs: (_ for _ in ()).throw(DatabaseError("x"))
    )
    Client(raise_request_exception=False).post("/en/inquiries/new/", valid_data())
    assert Inquiry.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert OutgoingEmail.objects.count() == 0


# --- the follow-up page ---------------------------------------------------------------------------


def without_csrf_token(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_follow_up_page_shows_status_and_public_timeline_with_private_headers(
    client, two_inquiries, coordinator
):
    first, first_link, _second, _second_link = two_inquiries
    TimelineEntry.objects.create(
        inquiry=first, kind="note", is_public=False, body="Internal: call the clinic first"
    )
    inquiry_transition(
        inquiry=first, to=InquiryStatus.IN_REVIEW, by=coordinator, note="Reading your MRI report"
    )
    response = client.get(path_of(first_link))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    with translation.override("ru"):
        assert translation.gettext("Being reviewed") in html
        assert translation.gettext("A coordinator is reading your request and records.") in html
    assert "Reading your MRI report" in html
    assert "Internal: call the clinic first" not in html
    assert "no-store" in response["Cache-Control"]
    # The private address never leaves the site, and the site's own forms still pass CSRF checks.
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_follow_up_link_of_one_inquiry_never_opens_another(client, two_inquiries):
    first, first_link, second, second_link = two_inquiries
    first_token = first_link.rstrip("/").rsplit("/", 1)[1]
    second_token = second_link.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/en/inquiries/follow-up/{second.reference}/{first_token}/").status_code == 404
    assert client.get(f"/en/inquiries/follow-up/{first.reference}/{second_token}/").status_code == 404
    assert client.get(f"/en/inquiries/follow-up/{first.reference}/{first_token[:-1]}x/").status_code == 404
    assert client.get(f"/en/inquiries/follow-up/{first.reference}/{first_token}/").status_code == 200


def test_patient_reply_adds_message_and_files_and_tells_coordinators(client, two_inquiries, settings):
    first, first_link, _second, _ = two_inquiries
    response = client.post(
        path_of(first_link),
        {
            "message": "New MRI attached",
            "attachments": [upload("mri2.pdf", pdf_bytes())],
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    entry = first.timeline.get(kind="patient_message")
    assert entry.body == "New MRI attached"
    assert entry.attachments.get().original_name == "mri2.pdf"
    assert [email.subject for email in mail.outbox] == [f"The patient replied on {first.reference}"] * len(
        settings.COORDINATOR_EMAILS
    )
    html = unescape(client.get(path_of(first_link)).content.decode())
    assert "New MRI attached" in html and "mri2.pdf" in html


def test_patient_reply_with_a_bad_file_is_refused_and_nothing_stored(client, two_inquiries, settings):
    first, first_link, _second, _ = two_inquiries
    before = stored_files(settings)
    response = client.post(
        path_of(first_link),
        {
            "message": "see file",
            "attachments": [upload("x.png", b"GIF89a....")],
            "submission_key": uuid.uuid4(),
        },
    )
    assert response.status_code == 400
    assert not first.timeline.filter(kind="patient_message").exists()
    assert stored_files(settings) == before


def test_lost_link_form_sends_a_new_link_and_never_reveals_whether_an_address_exists(client, two_inquiries):
    first, old_link, _second, _ = two_inquiries
    known = client.post("/en/inquiries/lost-link/", {"email": "FIRST@example.com"})
    unknown = client.post("/en/inquiries/lost-link/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known) == without_csrf_token(unknown)
    [email] = mail.outbox
    assert email.to == ["first@example.com"]
    with translation.override("ru"):
        assert email.subject == translation.gettext("Your new link for request %(reference)s") % {
            "reference": first.reference
        }
    new_link = follow_up_url_from(email)
    assert client.get(path_of(new_link)).status_code == 200
    assert client.get(path_of(old_link)).status_code == 404


# --- files are private ----------------------------------------------------------------------------


def test_attachments_are_unreachable_without_permission(client, request_choices, coordinator, settings):
    submit(client, files=[upload("mri.pdf", pdf_bytes())])
    attachment = Attachment.objects.get()
    staff_url = f"/admin/inquiries/files/{attachment.pk}/"

    assert Client().get(staff_url).status_code == 302  # to the admin login
    other_staff = get_user_model().objects.create_user("intern", "intern@example.com", "pw", is_staff=True)
    assert signed_in(other_staff).get(staff_url).status_code == 404
    for path in (
        f"/media/{attachment.file.name}",
        f"/static/{attachment.file.name}",
        f"/{attachment.file.name}",
    ):
        assert Client().get(path).status_code == 404

    response = signed_in(coordinator).get(staff_url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="mri.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == pdf_bytes()


def test_patient_downloads_only_their_own_files(client, two_inquiries):
    first, first_link, second, second_link = two_inquiries
    client.post(
        path_of(second_link),
        {
            "message": "file",
            "attachments": [upload("second.pdf", pdf_bytes())],
            "submission_key": uuid.uuid4(),
        },
    )
    attachment = second.attachments.get()
    first_token = first_link.rstrip("/").rsplit("/", 1)[1]
    assert (
        client.get(
            f"/en/inquiries/follow-up/{first.reference}/{first_token}/files/{attachment.pk}/"
        ).status_code
        == 404
    )
    own = client.get(path_of(second_link) + f"files/{attachment.pk}/")
    assert own.status_code == 200
    assert own["Content-Disposition"] == 'attachment; filename="second.pdf"'


# --- data protection ------------------------------------------------------------------------------


def test_deletion_request_is_confirmed_by_a_coordinator_and_erases_the_data(
    client, two_inquiries, lead, settings, django_capture_on_commit_callbacks
):
    first, first_link, second, _ = two_inquiries
    client.post(path_of(first_link), {"message": "records", "attachments": [upload("m.pdf", pdf_bytes())]})
    assert client.post(path_of(first_link) + "delete/", {}).status_code == 400  # the box must be ticked
    response = client.post(path_of(first_link) + "delete/", {"confirm": "on"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.deletion_requested_at is not None
    assert any(email.subject == f"Deletion requested for {first.reference}" for email in mail.outbox)

    admin = signed_in(lead)
    with django_capture_on_commit_callbacks(execute=True):  # files go once the erasure is committed
        response = admin.post(
            "/admin/inquiries/inquiry/",
            {"action": "erase_personal_data", "_selected_action": [str(first.pk)]},
        )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.anonymised_at is not None
    assert first.full_name == "—"
    assert first.email.endswith("@invalid")
    assert first.medications == first.diagnosis == ""
    assert str(first.phone) == ""
    assert first.status == InquiryStatus.CLOSED
    assert first.attachments.count() == 0
    assert all(entry.body == "" for entry in first.timeline.exclude(kind="status"))
    assert client.get(path_of(first_link)).status_code == 404
    assert [path.name for path in stored_files(settings)] == []
    second.refresh_from_db()
    assert second.full_name == "Aigerim Bekova"  # others untouched


def test_an_erasure_that_cannot_be_logged_is_refused_with_a_message_and_erases_nothing(
    two_inquiries, lead, settings, tmp_path
):
    first, _link, _second, _ = two_inquiries
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.ERASURE_LOG = blocker / "erasure-log.jsonl"
    response = signed_in(lead).post(
        "/admin/inquiries/inquiry/",
        {"action": "erase_personal_data", "_selected_action": [str(first.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert f"The erasure log cannot be written, so {first.reference}" in response.content.decode()
    first.refresh_from_db()
    assert first.anonymised_at is None
    assert first.full_name == "Aigerim Bekova"


def test_purge_erases_closed_inquiries_after_the_retention_period(client, two_inquiries, coordinator):
    # (files of purged inquiries are removed after commit; see the deletion test)
    first, _link, second, _ = two_inquiries
    inquiry_transition(inquiry=first, to=InquiryStatus.CLOSED, by=coordinator, closing_reason="booked")
    inquiry_transition(inquiry=second, to=InquiryStatus.CLOSED, by=coordinator, closing_reason="booked")
    Inquiry.objects.filter(pk=first.pk).update(closed_at=timezone.now() - datetime.timedelta(days=400))
    call_command("purge_inquiries", days=365, verbosity=0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.anonymised_at is not None and first.full_name == "—"
    assert first.condition.slug == "clonus" and first.country.code == "KZ"  # statistics stay
    assert second.anonymised_at is None


def test_purge_erases_open_inquiries_abandoned_for_the_abandonment_period(client, two_inquiries, settings):
    first, _link, second, _ = two_inquiries
    long_ago = timezone.now() - datetime.timedelta(days=settings.INQUIRY_ABANDONED_DAYS + 1)
    for inquiry in (first, second):
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=long_ago)
        inquiry.timeline.update(created_at=long_ago)
    # The second one had a reply from the patient last week: not abandoned.
    TimelineEntry.objects.create(
        inquiry=second, kind="patient_message", is_public=True, body="Still interested"
    )
    assert (
        Inquiry.objects.due_for_purge(days=365, abandoned_days=settings.INQUIRY_ABANDONED_DAYS).count() == 1
    )

    call_command("purge_inquiries", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.anonymised_at is not None
    assert first.status == InquiryStatus.CLOSED
    assert first.closing_reason == "erased"
    assert second.anonymised_at is None


def test_status_moves_only_along_allowed_transitions(request_choices, client, coordinator):
    submit(client)
    inquiry = Inquiry.objects.get()
    with pytest.raises(services.TransitionNotAllowed):
        inquiry_transition(inquiry=inquiry, to=InquiryStatus.ANSWERED, by=coordinator)
    inquiry_transition(inquiry=inquiry, to=InquiryStatus.IN_REVIEW, by=coordinator)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW
    entry = inquiry.timeline.get(kind="status")
    assert (entry.old_status, entry.new_status, entry.author) == ("received", "in_review", coordinator)


def test_inquiry_urls_never_use_sequential_numbers(client, request_choices):
    response = submit(client)
    inquiry = Inquiry.objects.get()
    assert isinstance(inquiry.pk, uuid.UUID)
    assert str(inquiry.pk) not in response["Location"]
    assert re.search(r"/thanks/CP-[0-9A-Z]{4}-[0-9A-Z]{4}/$", response["Location"])


def test_rate_limit_counts_in_redis_across_clients(request_choices, settings, redis_cache):
    settings.INQUIRY_RATE_PER_IP = "2/m"
    assert submit(Client(), email="a@example.com").status_code == 302
    assert submit(Client(), email="b@example.com").status_code == 302
    response = submit(Client(), email="c@example.com")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Inquiry.objects.count() == 2


def test_coordinator_answers_and_the_patient_sees_it_on_the_follow_up_page(
    client, two_inquiries, coordinator
):
    first, first_link, _second, _ = two_inquiries
    staff = signed_in(coordinator)
    form_page = unescape(staff.get(f"/admin/inquiries/inquiry/{first.pk}/respond/").content.decode())
    assert '<option value="in_review"' in form_page
    assert '<option value="answered"' not in form_page  # not allowed from "received"

    response = staff.post(
        f"/admin/inquiries/inquiry/{first.pk}/respond/",
        {"status": "in_review", "message": "We are reading the MRI report.", "visibility": "public"},
    )
    assert response.status_code == 302
    staff.post(
        f"/admin/inquiries/inquiry/{first.pk}/respond/",
        {"status": "in_review", "message": "Ask Dr. Kim about ITB", "visibility": "internal"},
    )
    first.refresh_from_db()
    assert first.status == InquiryStatus.IN_REVIEW
    [notice] = mail.outbox
    assert notice.to == ["first@example.com"]
    with translation.override("ru"):
        assert notice.subject == translation.gettext("News about your request %(reference)s") % {
            "reference": first.reference
        }
    assert "MRI report" not in notice.body  # the message itself stays behind the private link
    html = unescape(client.get(path_of(first_link)).content.decode())
    assert "We are reading the MRI report." in html
    assert "Ask Dr. Kim about ITB" not in html
    nothing = staff.post(
        f"/admin/inquiries/inquiry/{first.pk}/respond/", {"status": "in_review", "message": ""}
    )
    assert nothing.status_code == 200
    assert "Write a message or choose a new status." in nothing.content.decode()


def test_respond_page_is_refused_without_change_permission(two_inquiries):
    first, *_ = two_inquiries
    viewer = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_inquiry"))
    staff = signed_in(viewer)
    assert staff.get(f"/admin/inquiries/inquiry/{first.pk}/respond/").status_code == 404
