"""Every form a patient uses, submitted in a real Chromium, including after a validation error.

A form that only passes under Django's test client is not working: Chromium sends an Origin header
(and, on a no-referrer page, `Origin: null`), which the test client never does.
"""

import re

import pytest
from django.core import mail
from django.utils import translation

from inquiries.models import Inquiry, InquiryStatus
from inquiries.services import inquiry_respond
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.patients import follow_up_url_from, pdf_bytes
from tests.test_request_path import DISK_REFUSED, small_disk

pytestmark = browser_marks()

LANGUAGES = ["en", "ar", "ru"]


INVALID_EMAIL = "This is not a valid email address. Check it, e.g. name@example.com."


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


def fill_request(form, *, email, phone, consent):
    form.locator("[name=full_name]").fill("Aigerim Bekova")
    form.locator("[name=email]").fill(email)
    form.locator("[name=phone]").fill(phone)
    form.locator("[name=contact_channel]").select_option("email")
    form.locator("[name=country]").select_option("RU")
    form.locator("[name=patient_relation]").select_option("family")
    form.locator("[name=patient_age]").fill("54")
    form.locator("[name=symptom_duration]").select_option("1_5_years")
    form.locator("[name=message]").fill("Ankle clonus since a spinal injury. What can be done?")
    form.locator("[name=consent_health_data]").set_checked(consent)


def unexpected(console_errors):
    """Console errors apart from the refused form's own answer (400), which the browser also logs."""
    return [error for error in console_errors if "status of 400" not in error]


def record(tmp_path, name="mri-report.pdf"):
    path = tmp_path / name
    path.write_bytes(pdf_bytes())
    return str(path)


def open_entrance(page, site, language, entrance):
    """Open the request form the way a patient reaches it; returns the form."""
    if entrance == "main navigation":
        page.goto(f"{site.url}/{language}/conditions/")
        page.locator(f'.main-nav a[href="/{language}/inquiries/new/"]').click()
        page.wait_for_url(f"**/{language}/inquiries/new/")
        return page.locator("form.inquiry-form")
    if entrance == "home page":
        page.goto(f"{site.url}/{language}/")
        page.locator(f'.cards a[href="/{language}/inquiries/new/"]').click()
        page.wait_for_url(f"**/{language}/inquiries/new/")
        return page.locator("form.inquiry-form")
    if entrance == "condition page":
        page.goto(f"{site.url}/{language}/conditions/clonus/")
    else:
        page.goto(f"{site.url}/{language}/clinics/busan-haeundae-neuro-centre/")
    return page.locator("#consultation form")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("entrance", ["main navigation", "home page", "condition page", "clinic page"])
def test_request_form_is_sent_from_each_entrance_also_after_a_validation_error(
    page, demo_site, tmp_path, console_errors, language, entrance
):
    email = f"{language}-{entrance.replace(' ', '-')}@example.com"
    form = open_entrance(page, demo_site, language, entrance)
    fill_request(form, email=email, phone="12", consent=False)
    form.locator("[name=attachments]").set_input_files(record(tmp_path))
    form.locator("button[type=submit]").click()

    # Refused with the reasons in the page's language; typed text and the valid file are kept.
    summary = page.locator("#form-errors")
    summary.wait_for()
    assert tr(language, "Please correct the fields marked below. Nothing has been sent yet.") in (
        summary.inner_text()
    )
    consent_error = tr(
        language, "We can only answer if you agree to the processing of your health information."
    )
    assert consent_error in summary.inner_text()
    assert page.locator("[name=full_name]").input_value() == "Aigerim Bekova"
    assert page.locator("[data-held-uploads]").inner_text().count("mri-report.pdf") == 1
    assert Inquiry.objects.count() == 0

    form = page.locator("form.inquiry-form")
    form.locator("[name=phone]").fill("8 912 345 67 89")  # a local Russian number
    form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(rf".*/{language}/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert inquiry.reference in page.locator(".reference").inner_text()
    assert inquiry.email == email
    assert str(inquiry.phone) == "+79123456789"
    assert inquiry.language == language
    assert [attachment.original_name for attachment in inquiry.attachments.all()] == ["mri-report.pdf"]
    if entrance == "clinic page":
        assert [clinic.slug for clinic in inquiry.preferred_clinics.all()] == ["busan-haeundae-neuro-centre"]
    if entrance == "condition page":
        assert inquiry.condition.slug == "clonus"
    assert unexpected(console_errors) == []


@pytest.fixture
def patient_case(demo_site, client):
    """A stored Russian request and its private link on the live server."""
    from tests.support.patients import submit

    assert submit(client, "ru", email="patient@example.com", language="ru").status_code == 302
    [confirmation] = [email for email in mail.outbox if email.to == ["patient@example.com"]]
    mail.outbox.clear()
    link = follow_up_url_from(confirmation).replace("http://127.0.0.1:8000", demo_site.url)
    return Inquiry.objects.get(), link


def test_patient_replies_with_a_file_after_forgetting_the_message(
    page, patient_case, tmp_path, console_errors
):
    inquiry, link = patient_case
    page.goto(link)
    reply = page.locator("form", has=page.locator("[name=message]"))
    reply.locator("[name=attachments]").set_input_files(record(tmp_path, "new-mri.pdf"))
    reply.locator("button[type=submit]").click()
    page.locator(".field-error").first.wait_for()
    assert tr("ru", "This field is required.") in page.locator(".field-error").first.inner_text()
    assert "new-mri.pdf" in page.locator("[data-held-uploads]").inner_text()

    reply = page.locator("form", has=page.locator("[name=message]"))
    reply.locator("[name=message]").fill("Вот новое МРТ.")
    reply.locator("button[type=submit]").click()
    page.locator(".timeline", has_text="Вот новое МРТ.").wait_for()
    assert page.locator(".timeline a", has_text="new-mri.pdf").count() == 1
    entry = inquiry.timeline.get(kind="patient_message")
    assert [attachment.original_name for attachment in entry.attachments.all()] == ["new-mri.pdf"]
    assert [email.subject for email in mail.outbox] == [f"The patient replied on {inquiry.reference}"]
    assert unexpected(console_errors) == []


def test_patient_asks_for_deletion_after_forgetting_to_confirm(page, patient_case, console_errors):
    inquiry, link = patient_case
    page.goto(link)
    deletion = page.locator("#deletion form")
    deletion.locator("button[type=submit]").click()
    page.locator("#deletion .field-error").wait_for()
    assert tr("ru", "Tick the box to confirm.") in page.locator("#deletion").inner_text()
    inquiry.refresh_from_db()
    assert inquiry.deletion_requested_at is None

    page.locator("#deletion [name=confirm]").check()
    page.locator("#deletion button[type=submit]").click()
    page.locator("#deletion .notice").wait_for()
    inquiry.refresh_from_db()
    assert inquiry.deletion_requested_at is not None
    assert unexpected(console_errors) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_lost_link_form_sends_a_new_link_after_a_typo(
    page, patient_case, demo_site, console_errors, language
):
    inquiry, _old_link = patient_case
    page.goto(f"{demo_site.url}/{language}/inquiries/lost-link/")
    page.locator("[name=email]").fill("patient@example")
    page.locator("form button[type=submit]").click()
    page.locator(".field-error").wait_for()
    assert tr(language, INVALID_EMAIL) in page.locator(".field-error").inner_text()

    page.locator("[name=email]").fill("PATIENT@example.com")
    page.locator("form button[type=submit]").click()
    page.locator(".notice[role=status]").wait_for()
    [email] = mail.outbox
    assert email.to == ["patient@example.com"]
    page.goto(follow_up_url_from(email).replace("http://127.0.0.1:8000", demo_site.url))
    assert inquiry.reference in page.locator("h1").inner_text()
    assert unexpected(console_errors) == []


def test_the_link_in_a_notice_email_opens_the_conversation(page, patient_case, demo_site, coordinator):
    inquiry, _link = patient_case
    inquiry_respond(
        inquiry=inquiry,
        by=coordinator,
        message="Пришлите, пожалуйста, заключение МРТ 2024 года.",
        to=InquiryStatus.IN_REVIEW,
    )
    inquiry_respond(inquiry=inquiry, by=coordinator, message="", to=InquiryStatus.WAITING_FOR_PATIENT)
    notice = mail.outbox[-1]
    assert "МРТ" not in notice.body
    page.goto(follow_up_url_from(notice).replace("http://127.0.0.1:8000", demo_site.url))
    assert "Пришлите, пожалуйста, заключение МРТ 2024 года." in page.locator(".timeline").inner_text()
    assert tr("ru", "Waiting for your reply") in page.locator(".status-box").inner_text()
    reply = page.locator("form", has=page.locator("[name=message]"))
    reply.locator("[name=message]").fill("Отправляю завтра.")
    reply.locator("button[type=submit]").click()
    page.locator(".timeline", has_text="Отправляю завтра.").wait_for()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW


def test_coordinator_answers_in_the_admin_after_a_validation_error(page, patient_case, demo_site):
    from django.contrib.auth import get_user_model

    inquiry, _link = patient_case
    get_user_model().objects.create_superuser("lead", "lead@example.com", "a-long-admin-password")
    staff_sign_in(page, demo_site, "lead", "a-long-admin-password")
    page.goto(f"{demo_site.url}/admin/inquiries/inquiry/{inquiry.pk}/change/")
    page.click("text=Respond or change status")

    page.click("input[type=submit]")  # neither a message nor a new status
    page.locator(".errorlist", has_text="Write a message or choose a new status.").wait_for()

    page.select_option("[name=status]", InquiryStatus.IN_REVIEW)
    page.fill("[name=message]", "Мы читаем ваше заключение МРТ.")
    page.click("input[type=submit]")
    page.wait_for_url(f"**/admin/inquiries/inquiry/{inquiry.pk}/change/")
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW
    [notice] = [email for email in mail.outbox if email.to == ["patient@example.com"]]
    assert "МРТ" not in notice.body


def test_request_form_sent_to_a_full_disk_says_so_and_keeps_the_answers(page, demo_site, tmp_path, settings):
    with small_disk(tmp_path / "private-media-disk") as disk:
        settings.MEDIA_ROOT = disk.root
        disk.fill()
        page.goto(f"{demo_site.url}/en/inquiries/new/")
        form = page.locator("form.inquiry-form")
        fill_request(form, email="full-disk@example.com", phone="8 912 345 67 89", consent=True)
        form.locator("[name=attachments]").set_input_files(record(tmp_path))
        form.locator("button[type=submit]").click()

        page.locator(".messages").wait_for()
        assert tr("en", DISK_REFUSED) in page.locator(".messages").inner_text()
        assert page.locator("[name=full_name]").input_value() == "Aigerim Bekova"
        assert page.locator("[name=message]").input_value() == (
            "Ankle clonus since a spinal injury. What can be done?"
        )
        assert page.locator("[name=consent_health_data]").is_checked()
        assert Inquiry.objects.count() == 0
        assert disk.leftovers() == []


def test_the_request_form_of_a_cached_condition_page_is_sent_from_chromium(
    page, demo_site, settings, tmp_path, console_errors
):
    from django.core.cache import caches

    from conditions.models import Condition

    settings.PAGE_CACHE = True
    caches["pages"].clear()
    encodings = []
    page.on(
        "response",
        lambda response: (
            response.url.endswith("/conditions/clonus/")
            and encodings.append(response.headers.get("content-encoding"))
        ),
    )
    page.goto(f"{demo_site.url}/en/conditions/clonus/")  # stores the page
    # Changed behind the cache's back (no signal): only a page from the cache still shows the old name.
    Condition.objects.filter(slug="clonus").update(name_en="Not from the cache")
    page.context.clear_cookies()
    page.goto(f"{demo_site.url}/en/conditions/clonus/")  # a new visitor
    assert page.locator("h1").inner_text() == "Clonus"
    assert encodings == ["gzip", "gzip"]

    form = page.locator("#consultation form")
    fill_request(form, email="cached@example.com", phone="12", consent=False)
    form.locator("button[type=submit]").click()
    page.locator("#form-errors").wait_for()
    assert Inquiry.objects.count() == 0
    form = page.locator("form.inquiry-form")
    form.locator("[name=phone]").fill("8 912 345 67 89")
    form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r".*/en/inquiries/thanks/CP-.*"))
    assert Inquiry.objects.get().email == "cached@example.com"
    assert unexpected(console_errors) == []
    caches["pages"].clear()
