"""The staff forms in a real Chromium: sign-in, enrolment of the second factor, the email correction
and the identity confirmation before a download, each after a validation error first."""

import base64

from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django_otp.oath import totp

from inquiries.models import Inquiry
from staff import sessions
from staff.models import AuditAction, AuditEntry
from staff.roles import COORDINATOR
from tests.support.browser import browser_marks
from tests.support.patients import pdf_bytes, submit, upload
from tests.support.staff import make_staff

pytestmark = browser_marks()

PASSWORD = "a-long-staff-password"


def test_a_coordinator_enrols_corrects_an_email_and_confirms_before_a_download(
    page, demo_site, client, console_errors
):
    submit(client, email="anna@example.com", files=[upload("mri.pdf", pdf_bytes())])
    inquiry = Inquiry.objects.get()
    mail.outbox.clear()
    make_staff("dolgor", COORDINATOR)

    # Sign-in: a wrong password first.
    page.goto(f"{demo_site.url}/admin/")
    page.wait_for_url("**/staff/sign-in/**")
    page.fill("#id_username", "dolgor")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    page.locator(".errornote").wait_for()
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    # Enrolment: a wrong code first, then the app's code.
    page.wait_for_url("**/staff/two-factor/setup/**")
    assert page.locator("img[alt]").first.get_attribute("src").startswith("data:image/svg+xml;base64,")
    page.fill("#id_token", "000000")
    page.click("input[type=submit]")
    page.locator(".errorlist").wait_for()
    page.wait_for_timeout(1100)  # the second factor is throttled for a second after a wrong code
    secret = page.locator("[data-secret]").inner_text().strip()
    page.fill("#id_token", f"{totp(base64.b32decode(secret)):06d}")
    page.click("input[type=submit]")
    assert page.locator(".backup-codes li").count() == 10
    page.click("text=Continue")
    page.wait_for_url(f"{demo_site.url}/admin/")

    # The email correction: an invalid address first.
    page.goto(f"{demo_site.url}/admin/inquiries/inquiry/{inquiry.pk}/change/")
    page.click("text=Correct the email")
    page.fill("[name=email]", "anna.new@")
    page.fill("[name=reason]", "She wrote from her new address.")
    page.click("input[type=submit]")
    page.locator(".errorlist").wait_for()
    page.fill("[name=email]", "anna.new@example.com")
    page.click("input[type=submit]")
    page.wait_for_url(f"**/admin/inquiries/inquiry/{inquiry.pk}/change/")
    inquiry.refresh_from_db()
    assert inquiry.email == "anna.new@example.com"
    assert [email.to for email in mail.outbox] == [["anna@example.com"]]

    # Twenty minutes later (as far as the session knows), a download asks who it is.
    session_key = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "sessionid")
    session = SessionStore(session_key)
    session[sessions.CONFIRMED_AT] = session[sessions.CONFIRMED_AT] - 20 * 60
    session.save()
    page.locator("a", has_text="mri.pdf").click()
    page.locator("[name=secret]").wait_for()
    assert "/staff/confirm/" in page.url
    page.fill("[name=secret]", "wrong")
    page.click("input[type=submit]")
    page.locator(".errorlist").wait_for()
    page.fill("[name=secret]", PASSWORD)
    with page.expect_download() as download:
        page.click("input[type=submit]")
    assert download.value.suggested_filename == "mri.pdf"
    trail = list(AuditEntry.objects.filter(username="dolgor").values_list("action", flat=True))
    for action in (
        AuditAction.SIGN_IN,
        AuditAction.DEVICE_ENROLLED,
        AuditAction.VIEW,
        AuditAction.EMAIL_CORRECTED,
        AuditAction.REAUTHENTICATED,
        AuditAction.DOWNLOAD,
    ):
        assert action in trail
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_a_second_sign_in_asks_for_a_code_refuses_a_wrong_one_and_signs_out(page, demo_site, console_errors):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = make_staff("returning", COORDINATOR)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto(f"{demo_site.url}/admin/")
    page.fill("#id_username", "returning")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/staff/two-factor/?**")
    page.fill("#id_token", "000000")
    page.click("input[type=submit]")
    page.locator(".errorlist").wait_for()
    page.wait_for_timeout(1100)  # the second factor is throttled for a second after a wrong code
    page.fill("#id_token", f"{totp(device.bin_key):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(f"{demo_site.url}/admin/")

    page.goto(f"{demo_site.url}/staff/two-factor/")
    page.click("text=Sign out")
    page.wait_for_url("**/staff/sign-in/")
    page.goto(f"{demo_site.url}/admin/")
    page.wait_for_url("**/staff/sign-in/**")
    trail = list(
        AuditEntry.objects.filter(username="returning").order_by("at", "id").values_list("action", flat=True)
    )
    assert trail == [
        AuditAction.SIGN_IN,
        AuditAction.SECOND_FACTOR_FAILED,
        AuditAction.SECOND_FACTOR,
        AuditAction.SIGN_OUT,
    ]
    assert [error for error in console_errors if "status of 400" not in error] == []


def test_an_admin_sends_failed_emails_again_after_forgetting_to_select_them(page, demo_site, console_errors):
    from inquiries.models import EmailStatus, OutgoingEmail
    from staff.roles import ADMIN
    from tests.support.browser import staff_sign_in

    failed = OutgoingEmail.objects.create(
        kind="coordinator_new",
        to="desk@clinicportal.example",
        subject="New inquiry",
        body="A new consultation request has arrived.",
        status=EmailStatus.FAILED,
        failure="refused",
        last_error="550 5.2.1 recipient refused",
        attempts=1,
    )
    make_staff("olga", ADMIN)
    mail.outbox.clear()
    staff_sign_in(page, demo_site, "olga", PASSWORD, next_path="/admin/inquiries/outgoingemail/")
    page.click("#changelist-filter a[href*='status__exact=failed']")
    page.wait_for_url("**status__exact=failed**")
    assert "550 5.2.1 recipient refused" in page.content()

    # The action without a selection: Django says what is missing.
    page.select_option("select[name=action]", "send_again")
    page.click("button[name=index]")
    page.locator(".messagelist .warning").wait_for()

    page.check(f"input[name=_selected_action][value='{failed.pk}']")
    page.select_option("select[name=action]", "send_again")
    page.click("button[name=index]")
    page.locator(".messagelist .success", has_text="1 email queued again.").wait_for()
    failed.refresh_from_db()
    assert failed.status == EmailStatus.SENT
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [failed.message_id]
    assert [error for error in console_errors if "status of 400" not in error] == []
