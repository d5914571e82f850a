"""The clinic's answer page: a shared case opened with a private, expiring link, and the clinic's answer."""

import datetime
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from clinics.models import Clinic
from inquiries.models import EmailKind, Inquiry, OutgoingEmail, TimelineKind
from referrals.models import CanTreat, ClinicAnswer, Referral
from referrals.services import new_link_token
from staff.models import AuditAction, AuditEntry
from tests.support.browser import browser_marks
from tests.support.patients import pdf_bytes, png_bytes, submit, upload

TEMPLATES = Path(settings.BASE_DIR) / "referrals" / "templates" / "referrals"


def make_inquiry(client, email, files=()):
    response = submit(client, email=email, files=files)
    assert response.status_code == 302, response.content.decode()[:500]
    mail.outbox.clear()
    return Inquiry.objects.get(email=email)


def share(inquiry, clinic, *, shares_identity=False, attachments=(), expires_in_days=14, **fields):
    """A referral made as the sharing step leaves it; returns (referral, its link's path)."""
    token, token_hash = new_link_token()
    referral = Referral.objects.create(
        inquiry=inquiry,
        clinic=clinic,
        token_hash=token_hash,
        shares_identity=shares_identity,
        language=clinic.contact_language,
        expires_at=timezone.now() + datetime.timedelta(days=expires_in_days),
        **fields,
    )
    referral.attachments.set(attachments)
    return referral, f"/en/clinic-case/{token}/"


@pytest.fixture
def case(client, demo):
    """A request with two files, shared with Hanbit (only the PDF ticked) without the patient's identity."""
    inquiry = make_inquiry(
        client,
        "aigerim@example.com",
        files=[
            upload("scan.pdf", pdf_bytes(), "application/pdf"),
            upload("mri.png", png_bytes(), "image/png"),
        ],
    )
    hanbit = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    pdf = inquiry.attachments.get(original_name="scan.pdf")
    referral, path = share(
        inquiry, hanbit, attachments=[pdf], note_to_clinic="Please look at the MRI report."
    )
    return referral, path


def valid_answer(referral, **overrides):
    clinic = referral.clinic
    today = timezone.localdate()
    data = {
        "can_treat": CanTreat.YES,
        "treatments": [clinic.treatments.order_by("pk").first().pk],
        "plan": "Test dose of intrathecal baclofen, then pump implantation.",
        "doctor": clinic.doctors.first().pk,
        "earliest_start": (today + datetime.timedelta(days=20)).isoformat(),
        "stay_days": "10",
        "price_min_krw": "20000000",
        "price_max_krw": "30000000",
        "included": "Surgery, pump, five nights in hospital.",
        "valid_until": (today + datetime.timedelta(days=60)).isoformat(),
        "text_language": "en",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


pytestmark = pytest.mark.django_db


# --- what the clinic sees ------------------------------------------------------------------------


def test_without_the_sharing_consent_the_page_shows_the_case_but_no_name_or_contact(client, case):
    referral, path = case
    response = client.get(path)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    inquiry = referral.inquiry
    assert inquiry.reference in html
    assert inquiry.diagnosis in html and inquiry.medications in html and inquiry.message in html
    assert "Please look at the MRI report." in html
    assert "Russian" in html  # the patient's language
    for private in (inquiry.full_name, inquiry.email, "701 234", inquiry.contact_handle):
        assert private not in html
    assert "has not agreed to share their name and contact details" in html


def test_with_the_sharing_consent_the_page_shows_name_and_contact(client, case):
    referral, path = case
    Referral.objects.filter(pk=referral.pk).update(shares_identity=True)
    html = unescape(client.get(path).content.decode())
    inquiry = referral.inquiry
    assert inquiry.full_name in html
    assert inquiry.email in html
    assert "701 234" in html  # the phone, as the page formats it
    assert "WhatsApp" in html and inquiry.contact_handle in html


def test_the_page_is_private_never_cached_nor_indexed_and_keeps_its_address_on_the_site(client, case):
    _, path = case
    response = client.get(path)
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_page_answers_in_korean_and_english(client, case, language):
    _, path = case
    response = client.get(path.replace("/en/", f"/{language}/"))
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.content.decode()


def test_an_unknown_expired_or_revoked_link_answers_404(client, case):
    referral, path = case
    assert client.get("/en/clinic-case/not-a-real-token/").status_code == 404
    Referral.objects.filter(pk=referral.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    expired = client.get(path)
    assert expired.status_code == 404
    assert "Page not found" in expired.content.decode()  # the site's own 404 page
    assert referral.inquiry.reference not in expired.content.decode()
    Referral.objects.filter(pk=referral.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1), revoked_at=timezone.now()
    )
    assert client.get(path).status_code == 404
    assert client.post(path, valid_answer(referral)).status_code == 404
    assert not ClinicAnswer.objects.exists()


def test_a_link_to_an_erased_request_answers_404(client, case):
    referral, path = case
    Inquiry.objects.filter(pk=referral.inquiry_id).update(anonymised_at=timezone.now())
    assert client.get(path).status_code == 404


# --- files -----------------------------------------------------------------------------------------


def test_only_the_ticked_files_are_listed_and_downloadable(client, case):
    referral, path = case
    inquiry = referral.inquiry
    pdf = inquiry.attachments.get(original_name="scan.pdf")
    png = inquiry.attachments.get(original_name="mri.png")
    html = client.get(path).content.decode()
    assert f"{path}files/{pdf.pk}/" in html
    assert "mri.png" not in html

    download = client.get(f"{path}files/{pdf.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert download["Content-Disposition"].startswith("attachment")
    assert "no-store" in download["Cache-Control"]

    assert client.get(f"{path}files/{png.pk}/").status_code == 404  # not ticked


def test_a_file_of_another_request_answers_404_even_if_attached_to_the_referral(client, case):
    referral, path = case
    other = make_inquiry(
        client, "other@example.com", files=[upload("other.pdf", pdf_bytes(), "application/pdf")]
    )
    foreign = other.attachments.get()
    referral.attachments.add(foreign)  # a bug elsewhere must still not leak another patient's file
    assert client.get(f"{path}files/{foreign.pk}/").status_code == 404
    assert "other.pdf" not in client.get(path).content.decode()


def test_views_and_downloads_are_audited_as_the_clinic_and_never_with_the_token(client, case):
    referral, path = case
    token = path.rstrip("/").rsplit("/", 1)[1]
    pdf = referral.inquiry.attachments.get(original_name="scan.pdf")
    client.get(path)
    client.get(f"{path}files/{pdf.pk}/")
    view = AuditEntry.objects.get(action=AuditAction.CLINIC_VIEW)
    download = AuditEntry.objects.get(action=AuditAction.CLINIC_DOWNLOAD)
    for entry in (view, download):
        assert entry.username == "clinic:hanbit-neuroscience-hospital"
        assert entry.user is None
        assert entry.object_id == str(referral.inquiry_id)
        assert f"referral {referral.pk}" in entry.note
    assert f"file {pdf.pk}" in download.note
    assert "scan.pdf" not in download.object_repr + download.note  # a file name may reveal health data
    for entry in AuditEntry.objects.all():
        assert token not in " ".join([entry.note, entry.object_repr, entry.object_id, str(entry.changes)])


def test_a_clinic_cannot_reach_another_clinics_case_or_answer(client, case):
    referral, path = case
    busan = Clinic.objects.get(slug="busan-haeundae-neuro-centre")
    other_inquiry = make_inquiry(client, "second@example.com")
    busan_referral, busan_path = share(other_inquiry, busan)
    ClinicAnswer.objects.create(
        referral=busan_referral, can_treat=CanTreat.NO, plan="Busan's confidential plan", text_language="ko"
    )
    html = client.get(path).content.decode()
    assert other_inquiry.reference not in html
    assert "Busan&#x27;s confidential plan" not in html and "Busan's confidential plan" not in html
    # Busan's own page shows its own answer, not Hanbit's case.
    busan_html = client.get(busan_path).content.decode()
    assert referral.inquiry.reference not in busan_html
    assert "Busan&#x27;s confidential plan" in busan_html


# --- the answer ------------------------------------------------------------------------------------


def test_answering_stores_the_answer_adds_it_to_the_timeline_and_emails_the_coordinators(client, case):
    referral, path = case
    data = valid_answer(referral)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(path, data)
    assert response.status_code == 302
    answer = ClinicAnswer.objects.get(referral=referral)
    assert answer.can_treat == CanTreat.YES
    assert [t.pk for t in answer.treatments.all()] == data["treatments"]
    assert answer.doctor_id == data["doctor"]
    assert (answer.price_min_krw, answer.price_max_krw) == (20_000_000, 30_000_000)
    assert answer.stay_days == 10 and answer.text_language == "en"
    assert answer.revised_at is None and answer.published_at is None

    entry = referral.inquiry.timeline.get(kind=TimelineKind.CLINIC_ANSWER)
    assert not entry.is_public
    assert "Hanbit" in entry.body

    emails = OutgoingEmail.objects.filter(kind=EmailKind.COORDINATOR_CLINIC_ANSWER)
    assert sorted(emails.values_list("to", flat=True)) == sorted(settings.COORDINATOR_EMAILS)
    sent = [email for email in mail.outbox if email.to == [settings.COORDINATOR_EMAILS[0]]]
    assert len(sent) == 1
    assert referral.inquiry.reference in sent[0].subject and "Hanbit" in sent[0].subject
    assert f"/workspace/{referral.inquiry.reference}/" in sent[0].body
    assert "Yes, we can treat this patient" in sent[0].body
    assert referral.inquiry.diagnosis not in sent[0].body  # health data stays behind the sign-in

    audit = AuditEntry.objects.get(action=AuditAction.CLINIC_ANSWER)
    assert audit.username == "clinic:hanbit-neuroscience-hospital"

    page = client.get(path)
    assert "your answer has been sent to our coordinators" in unescape(page.content.decode())


def test_the_form_offers_only_the_clinics_own_treatments_and_doctors(client, case):
    referral, path = case
    busan = Clinic.objects.get(slug="busan-haeundae-neuro-centre")
    foreign_treatment = busan.treatments.exclude(pk__in=referral.clinic.treatments.all()).first()
    foreign_doctor = busan.doctors.first()
    response = client.post(
        path, valid_answer(referral, treatments=[foreign_treatment.pk], doctor=foreign_doctor.pk)
    )
    assert response.status_code == 400
    assert not ClinicAnswer.objects.exists()
    html = unescape(response.content.decode())
    assert "Select a valid choice" in html


def test_a_price_range_upside_down_is_refused_with_a_message_and_nothing_saved(client, case):
    referral, path = case
    response = client.post(path, valid_answer(referral, price_min_krw="30000000", price_max_krw="20000000"))
    assert response.status_code == 400
    assert "The highest price must not be lower than the lowest price." in unescape(response.content.decode())
    assert not ClinicAnswer.objects.exists()
    assert not referral.inquiry.timeline.filter(kind=TimelineKind.CLINIC_ANSWER).exists()
    assert not OutgoingEmail.objects.filter(kind=EmailKind.COORDINATOR_CLINIC_ANSWER).exists()


def test_an_answer_that_fails_halfway_leaves_nothing_behind(client, case, monkeypatch):
    referral, path = case

    def outbox_down(**kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr("referrals.services._queue_email", outbox_down)
    with pytest.raises(RuntimeError):
        client.post(path, valid_answer(referral))
    assert not ClinicAnswer.objects.exists()
    assert not referral.inquiry.timeline.filter(kind=TimelineKind.CLINIC_ANSWER).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CLINIC_ANSWER).exists()


def test_a_maximum_price_alone_is_accepted(client, case):
    referral, path = case
    assert client.post(path, valid_answer(referral, price_min_krw=None)).status_code == 302
    answer = ClinicAnswer.objects.get()
    assert (answer.price_min_krw, answer.price_max_krw) == (None, 30_000_000)


def test_dates_in_the_past_are_refused(client, case):
    referral, path = case
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client.post(path, valid_answer(referral, earliest_start=yesterday, valid_until=yesterday))
    assert response.status_code == 400
    assert unescape(response.content.decode()).count("Please choose today or a later date.") >= 2
    assert not ClinicAnswer.objects.exists()


def test_the_clinic_revises_its_answer_until_it_is_published_then_it_is_read_only(client, case):
    referral, path = case
    client.post(path, valid_answer(referral))
    assert (
        client.post(path, valid_answer(referral, can_treat=CanTreat.NEED_MORE_INFORMATION)).status_code == 302
    )
    answer = ClinicAnswer.objects.get()
    assert answer.can_treat == CanTreat.NEED_MORE_INFORMATION
    assert answer.revised_at is not None
    assert referral.inquiry.timeline.filter(kind=TimelineKind.CLINIC_ANSWER).count() == 2
    assert AuditEntry.objects.get(action=AuditAction.CLINIC_ANSWER, note__contains="revised")

    ClinicAnswer.objects.filter(pk=answer.pk).update(published_at=timezone.now())
    page = unescape(client.get(path).content.decode())
    assert "can no longer be changed" in page
    assert "<form" not in page.split('id="answer"')[1]
    refused = client.post(path, valid_answer(referral, can_treat=CanTreat.NO))
    assert refused.status_code == 409
    assert "can no longer be changed" in unescape(refused.content.decode())
    answer.refresh_from_db()
    assert answer.can_treat == CanTreat.NEED_MORE_INFORMATION
    assert referral.inquiry.timeline.filter(kind=TimelineKind.CLINIC_ANSWER).count() == 2


def test_the_answer_language_defaults_to_the_clinics_contact_language(client, case):
    _, path = case
    html = client.get(path).content.decode()
    assert '<option value="ko" selected>' in html


def test_the_page_renders_in_a_constant_number_of_queries(client, case, django_assert_max_num_queries):
    referral, path = case
    client.get(path)  # warm caches (sessions, translations)
    with django_assert_max_num_queries(20) as few:
        client.get(path)
    referral.attachments.set(referral.inquiry.attachments.all())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(path)


def test_every_ui_string_in_the_templates_goes_through_translation():
    """English is asserted above; the Korean catalogue is filled by the translators from these tags."""
    import re

    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert "{% load i18n" in text
        translated = r"{% blocktranslate.*?{% endblocktranslate %}"
        without_tags = re.sub(
            translated + r"|{% comment %}.*?{% endcomment %}|{#.*?#}|{%.*?%}|{{.*?}}|<[^>]+>",
            " ",
            text,
            flags=re.S,
        )
        words = [word for word in re.findall(r"[A-Za-z]{3,}", without_tags)]
        assert words == [], f"{template.name}: untranslated text {words}"


# --- in a real browser ---------------------------------------------------------------------------


def in_the_browser(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_the_browser
def test_a_clinic_answers_in_the_browser_after_a_mistake_then_revises(
    page, demo_site, client, console_errors
):
    inquiry = make_inquiry(client, "browser@example.com")
    hanbit = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    referral, path = share(inquiry, hanbit)
    page.goto(f"{demo_site.url}{path}")
    assert inquiry.reference in page.locator("h1").inner_text()

    page.check(f"input[name=can_treat][value={CanTreat.YES}]")
    first_treatment = hanbit.treatments.order_by("pk").first()
    page.check(f"input[name=treatments][value='{first_treatment.pk}']")
    page.fill("#id_plan", "Assessment, then a botulinum toxin injection.")
    page.select_option("#id_doctor", str(hanbit.doctors.first().pk))
    page.fill("#id_earliest_start", (timezone.localdate() + datetime.timedelta(days=14)).isoformat())
    page.fill("#id_stay_days", "7")
    page.fill("#id_price_min_krw", "5000000")
    page.fill("#id_price_max_krw", "3000000")
    page.fill("#id_valid_until", (timezone.localdate() + datetime.timedelta(days=30)).isoformat())
    page.click("button[type=submit]")

    page.locator("#form-errors").wait_for()
    assert "The highest price must not be lower than the lowest price." in page.content()
    assert page.input_value("#id_plan") == "Assessment, then a botulinum toxin injection."
    assert page.input_value("#id_price_min_krw") == "5000000"
    assert page.is_checked(f"input[name=treatments][value='{first_treatment.pk}']")
    assert not ClinicAnswer.objects.exists()

    page.fill("#id_price_max_krw", "8000000")
    page.click("button[type=submit]")
    page.locator(".message-success").wait_for()
    answer = ClinicAnswer.objects.get(referral=referral)
    assert (answer.price_min_krw, answer.price_max_krw) == (5_000_000, 8_000_000)

    # The form comes back filled in with the answer; the clinic revises it.
    assert page.input_value("#id_price_max_krw") == "8000000"
    page.fill("#id_stay_days", "9")
    page.click("button[type=submit]")
    page.locator(".message-success").wait_for()
    answer.refresh_from_db()
    assert answer.stay_days == 9 and answer.revised_at is not None
    assert [error for error in console_errors if "status of 400" not in error] == []  # the refused form
