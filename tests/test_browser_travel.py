"""In a real Chromium: the travel guide edited in the admin (also after a refused save), and a
Vietnamese request asking to be contacted on Zalo (also after a refused send)."""

import datetime
import re

from django.utils import timezone, translation

from inquiries.models import Inquiry
from staff.roles import CONTENT_EDITOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.staff import make_staff
from travel.models import TravelGuide

pytestmark = browser_marks()

PASSWORD = "a-long-staff-password"


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


def test_an_editor_fixes_the_review_dates_and_saves_the_guide(page, demo_site, console_errors):
    guide = TravelGuide.objects.get()
    make_staff("editor", CONTENT_EDITOR)
    page.set_viewport_size({"width": 1280, "height": 900})
    change = f"/admin/travel/travelguide/{guide.pk}/change/"
    staff_sign_in(page, demo_site, "editor", PASSWORD, next_path=change)

    # Each translation's review state is shown; none is checked yet.
    assert (
        page.locator(".translation-reviews tr[data-language=vi] .review-state").inner_text()
        == "Not yet checked"
    )

    today = timezone.localdate()
    page.fill("#id_title_en", "Plan your trip to Korea")
    page.fill("#id_sections-0-heading_en", "Visas for treatment in Korea")
    page.fill("#id_last_reviewed", today.isoformat())
    page.fill("#id_next_review_due", (today - datetime.timedelta(days=1)).isoformat())
    page.click("input[name=_continue]")
    page.locator(".errornote").wait_for()
    assert "The next review must come after the last review." in page.locator(".errorlist").first.inner_text()
    assert page.input_value("#id_title_en") == "Plan your trip to Korea"
    guide.refresh_from_db()
    assert guide.title_en != "Plan your trip to Korea"

    page.fill("#id_next_review_due", (today + datetime.timedelta(days=180)).isoformat())
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    guide.refresh_from_db()
    assert guide.title_en == "Plan your trip to Korea"
    assert guide.next_review_due == today + datetime.timedelta(days=180)
    assert guide.sections.get(anchor="visas").heading_en == "Visas for treatment in Korea"

    page.goto(f"{demo_site.url}/en/plan-your-trip/")
    assert page.locator("h1").inner_text() == "Plan your trip to Korea"
    assert page.locator('.toc a[href="#visas"]').inner_text() == "Visas for treatment in Korea"
    assert console_errors == []


def test_a_vietnamese_request_asks_to_be_contacted_on_zalo(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}/vi/inquiries/new/")
    form = page.locator("form.inquiry-form")
    channels = form.locator("[name=contact_channel] option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert channels[:5] == ["", "email", "phone", "zalo", "viber"]
    assert form.locator("a[href='/vi/plan-your-trip/']").count() == 1

    form.locator("[name=full_name]").fill("Nguyễn Thị Lan")
    form.locator("[name=email]").fill("lan@example.com")
    form.locator("[name=contact_channel]").select_option("zalo")
    form.locator("[name=country]").select_option("VN")
    form.locator("[name=patient_relation]").select_option("self")
    form.locator("[name=patient_age]").fill("47")
    form.locator("[name=symptom_duration]").select_option("1_5_years")
    form.locator("[name=message]").fill("Tôi bị co giật cơ chân sau đột quỵ.")
    form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    # No Zalo number and no phone: refused in Vietnamese, nothing stored, Zalo still chosen.
    page.locator("#form-errors").wait_for()
    assert tr("vi", "Enter your ID or number on that app.") in page.locator("#form-errors").inner_text()
    assert Inquiry.objects.count() == 0
    form = page.locator("form.inquiry-form")
    assert form.locator("[name=contact_channel]").input_value() == "zalo"

    form.locator("[name=contact_handle]").fill("0912 345 678")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/vi/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert (inquiry.contact_channel, inquiry.contact_handle, inquiry.language) == (
        "zalo",
        "0912 345 678",
        "vi",
    )
    assert [error for error in console_errors if "status of 400" not in error] == []
