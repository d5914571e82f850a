"""The workspace in a real Chromium: one inquiry triaged from the inbox to a sent reply with the keyboard
alone, and the workspace's forms after a validation error."""

from django.core import mail

from inquiries.models import Inquiry, InquiryStatus, TimelineKind
from staff.roles import COORDINATOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.patients import submit
from tests.support.staff import make_staff

pytestmark = browser_marks()


def test_a_coordinator_triages_an_inquiry_with_the_keyboard_alone(page, demo_site, client, console_errors):
    submit(client, email="anna@example.com", language="ru")
    inquiry = Inquiry.objects.get()
    submit(client, email="olga@example.com", language="ru")
    second = Inquiry.objects.get(email="olga@example.com")
    mail.outbox.clear()
    make_staff("minji", COORDINATOR, languages=["ru"])
    staff_sign_in(page, demo_site, "minji", "a-long-staff-password", next_path="/workspace/")

    page.keyboard.press("j")  # the first (most urgent) inquiry of the queue
    assert page.evaluate("document.activeElement.textContent") == inquiry.reference
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/workspace/{inquiry.reference}/")
    page.keyboard.press("a")  # assign to me
    page.locator("text=Your reply was sent").or_(page.locator("h1")).first.wait_for()
    page.wait_for_function("document.querySelector('form[data-take]') === null")
    page.keyboard.press("r")  # to the reply
    page.keyboard.type("Здравствуйте! Мы изучаем ваш запрос.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(".message-success, .message", has_text="Your reply was sent to the patient.").wait_for()

    inquiry.refresh_from_db()
    assert inquiry.assigned_to.get_username() == "minji"
    assert inquiry.first_responded_at is not None
    reply = inquiry.timeline.get(kind=TimelineKind.COORDINATOR_MESSAGE)
    assert reply.body == "Здравствуйте! Мы изучаем ваш запрос."
    assert [email.to for email in mail.outbox if email.to != ["coordinators@clinicportal.example"]] == [
        ["anna@example.com"]
    ]
    page.keyboard.press("n")  # the next inquiry of the queue
    page.wait_for_url(f"**/workspace/{second.reference}/")
    page.keyboard.press("p")
    page.wait_for_url(f"**/workspace/{inquiry.reference}/")
    page.keyboard.press("u")  # back to the inbox
    page.wait_for_url("**/workspace/")
    assert console_errors == []


def test_closing_without_a_reason_is_refused_then_accepted(page, demo_site, client):
    submit(client, email="olga@example.com")
    inquiry = Inquiry.objects.get()
    make_staff("lead-user", COORDINATOR, languages=["ru"])
    staff_sign_in(
        page, demo_site, "lead-user", "a-long-staff-password", next_path=f"/workspace/{inquiry.reference}/"
    )
    page.select_option("[name=status]", "closed")
    page.click("text=Change status")
    page.locator(".field-error", has_text="Choose why the request is closed.").wait_for()
    page.select_option("[name=status]", "closed")
    page.select_option("[name=closing_reason]", "duplicate")
    page.click("text=Change status")
    page.wait_for_url(f"**/workspace/{inquiry.reference}/")
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.closing_reason) == (InquiryStatus.CLOSED, "duplicate")


def test_a_lead_notes_assigns_and_signs_out(page, demo_site, client):
    from staff.roles import COORDINATOR_LEAD

    submit(client, email="yuki@example.com", language="ja")
    inquiry = Inquiry.objects.get()
    make_staff("sato", COORDINATOR, languages=["ja"])
    make_staff("lead", COORDINATOR_LEAD)
    staff_sign_in(
        page, demo_site, "lead", "a-long-staff-password", next_path=f"/workspace/{inquiry.reference}/"
    )

    page.click("text=Add note")  # an empty note first
    page.locator(".field-error", has=page.locator("[name=note]")).wait_for()
    page.fill("[name=note]", "Ask Dr. Tanaka about the MRI")
    page.click("text=Add note")
    page.locator(".timeline .internal", has_text="Ask Dr. Tanaka about the MRI").wait_for()

    page.select_option("select[name=assignee]", label="sato ★ (ja)")
    page.click("button:text-is('Assign')")
    page.locator(".inquiry-assignee", has_text="sato").wait_for()
    inquiry.refresh_from_db()
    assert inquiry.assigned_to.get_username() == "sato"
    assert inquiry.timeline.filter(kind=TimelineKind.NOTE, body="Ask Dr. Tanaka about the MRI").exists()

    page.click(".workspace-header button:text-is('Sign out')")
    page.wait_for_url("**/staff/sign-in/")
    page.goto(f"{demo_site.url}/workspace/")
    page.wait_for_url("**/staff/sign-in/**")


def test_a_coordinator_filters_the_inbox_by_condition_and_clinic(page, demo_site, client):
    submit(client, email="anna@example.com", preferred_clinics=["hanbit-neuroscience-hospital"])
    submit(client, email="olga@example.com", preferred_clinics=["busan-haeundae-neuro-centre"])
    anna, olga = Inquiry.objects.get(email="anna@example.com"), Inquiry.objects.get(email="olga@example.com")
    make_staff("lead-user", COORDINATOR, languages=["ru"])
    staff_sign_in(page, demo_site, "lead-user", "a-long-staff-password", next_path="/workspace/?assigned=any")
    form = page.locator("form.inbox-filters")
    form.locator("[name=condition]").select_option("clonus")
    form.locator("[name=clinic]").select_option("busan-haeundae-neuro-centre")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**clinic=busan-haeundae-neuro-centre**")
    table = page.locator("table")
    assert table.get_by_text(olga.reference).count() == 1
    assert table.get_by_text(anna.reference).count() == 0
    # The menus keep the choice, shown by name.
    assert form.locator("[name=clinic] option:checked").inner_text().startswith("Busan")
    assert form.locator("[name=condition]").input_value() == "clonus"

    form.locator("[name=clinic]").select_option("hanbit-neuroscience-hospital")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**clinic=hanbit-neuroscience-hospital**")
    assert table.get_by_text(anna.reference).count() == 1
    assert table.get_by_text(olga.reference).count() == 0
