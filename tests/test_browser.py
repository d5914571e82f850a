"""End-to-end checks in a real Chromium (Debian's package, driven by Playwright)."""

from tests.support.browser import browser_marks, staff_sign_in

pytestmark = browser_marks()


def test_language_switcher_keeps_the_page_and_arabic_mirrors(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}/en/conditions/clonus/")
    assert page.locator("h1").inner_text() == "Clonus"
    page.locator("details.language-switcher summary").click()
    page.locator('details.language-switcher a[hreflang="ar"]').click()
    page.wait_for_url(f"{demo_site.url}/ar/conditions/clonus/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "الرمع"
    # The layout mirrors: the heading's text starts at the right edge of the content column.
    heading_box = page.locator("h1").bounding_box()
    main_box = page.locator("main").bounding_box()
    assert heading_box["x"] + heading_box["width"] > main_box["x"] + main_box["width"] - 40
    assert console_errors == []  # no CSP violation, no failed asset


def test_clinic_filters_on_the_condition_page_apply_without_a_button(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}/en/conditions/clonus/")
    assert page.locator(".matching-clinics [data-clinic]").count() == 10
    page.select_option("#clinics select[name=city]", "seoul")
    page.wait_for_url("**city=seoul**")
    assert page.locator(".matching-clinics [data-clinic]").count() == 3
    page.select_option("#clinics select[name=language]", "ru")
    page.wait_for_url("**language=ru**")
    assert (
        page.locator(".matching-clinics [data-clinic]")
        .all_inner_texts()[0]
        .startswith("Hanbit University Neuroscience Hospital")
    )
    assert console_errors == []


def test_skip_link_is_the_first_focus_and_visible(page, demo_site):
    page.goto(f"{demo_site.url}/ko/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator(".skip-link").is_visible()
    assert page.locator(".skip-link").inner_text() == "본문으로 건너뛰기"


def test_patient_sends_a_request_with_a_record_and_opens_the_private_link(
    page, demo_site, tmp_path, console_errors
):
    import re

    from django.core import mail

    from inquiries.models import Inquiry

    record = tmp_path / "mri-report.pdf"
    record.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    page.goto(f"{demo_site.url}/ru/conditions/clonus/")
    form = page.locator("#consultation form")
    form.locator("[name=full_name]").fill("Айгерим Бекова")
    form.locator("[name=email]").fill("aigerim@example.com")
    form.locator("[name=phone]").fill("+7 701 234 5678")
    form.locator("[name=contact_channel]").select_option("telegram")
    form.locator("[name=contact_handle]").fill("@aigerim")
    form.locator("[name=country]").select_option("KZ")
    form.locator("[name=patient_relation]").select_option("self")
    form.locator("[name=patient_age]").fill("41")
    form.locator("[name=symptom_duration]").select_option("6_12_months")
    form.locator("[name=message]").fill("Клонус в левой ноге после травмы.")
    form.locator('[name=preferred_clinics][value="busan-haeundae-neuro-centre"]').check()
    form.locator("[name=attachments]").set_input_files(str(record))
    form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r".*/ru/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert inquiry.reference in page.locator(".reference").inner_text()
    assert inquiry.language == "ru"
    assert inquiry.attachments.get().original_name == "mri-report.pdf"
    [patient_email] = [email for email in mail.outbox if email.to == ["aigerim@example.com"]]
    link = re.search(r"http://\S+/follow-up/\S+/", patient_email.body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", demo_site.url))
    assert inquiry.reference in page.locator("h1").inner_text()
    assert page.locator(".timeline a", has_text="mri-report.pdf").count() == 1
    assert console_errors == []


def test_admin_language_tabs_work_offline_under_the_content_security_policy(page, demo_site, console_errors):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    staff_sign_in(page, demo_site, "admin", "a-long-admin-password")
    page.goto(f"{demo_site.url}/admin/conditions/condition/?review=overdue")
    page.click("text=Stroke recovery and rehabilitation")
    page.locator(".ui-tabs-nav").first.wait_for()
    name_tabs = page.locator(".ui-tabs-nav").first
    assert name_tabs.locator("li").all_inner_texts() == ["EN", "KO", "JA", "ZH-HANS", "RU", "AR", "MN", "VI"]
    name_tabs.locator("li", has_text="KO").click()
    assert page.locator("#id_name_ko").is_visible()
    assert not page.locator("#id_name_en").is_visible()
    assert console_errors == []
