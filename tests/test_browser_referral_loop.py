"""The whole loop in real browsers: a patient in Saudi Arabia writes in Arabic and agrees to share
their details; a coordinator shares the case with a Korean clinic; the clinic opens its private link in
Korean, sees the patient's name, and answers; the coordinator publishes the answer; the patient
compares it right to left with the price in won, dollars and riyals, and states a preference, which
moves the inquiry back to the coordinator. Every step is in the audit trail."""

import datetime
import re

from django.core import mail
from django.utils import timezone, translation

from inquiries.models import Inquiry, InquiryStatus
from referrals.models import ClinicAnswer, Referral
from staff.models import AuditAction, AuditEntry
from staff.roles import COORDINATOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.patients import follow_up_url_from, path_of
from tests.support.staff import make_staff
from tests.test_browser_forms import fill_request, unexpected

pytestmark = browser_marks()

HANBIT = "hanbit-neuroscience-hospital"


def test_a_case_goes_to_a_clinic_and_its_answer_back_to_the_patient(page, browser, demo_site, console_errors):
    # The patient writes in Arabic, with the consent to share ticked.
    patient = browser.new_context().new_page()
    patient.goto(f"{demo_site.url}/ar/inquiries/new/")
    form = patient.locator("form.inquiry-form")
    fill_request(form, email="layla@example.com", phone="+966 50 123 4567", consent=True)
    form.locator("[name=full_name]").fill("Layla Al-Harbi")
    form.locator("[name=country]").select_option("SA")
    form.locator("[name=condition]").select_option("clonus")
    form.locator("[name=consent_share]").check()
    form.locator("button[type=submit]").click()
    patient.wait_for_url(re.compile(r".*/ar/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    follow_up = path_of(
        follow_up_url_from(next(email for email in mail.outbox if email.to == [inquiry.email]))
    )

    # The coordinator shares it with Hanbit: the preview shows the name, since the patient agreed.
    make_staff("minji", COORDINATOR)
    page.set_viewport_size({"width": 1280, "height": 900})
    staff_sign_in(
        page, demo_site, "minji", "a-long-staff-password", next_path=f"/workspace/{inquiry.reference}/"
    )
    page.click("text=Share with clinics")
    page.get_by_label("Hanbit University Neuroscience Hospital").check()
    page.click("button[data-preview]")
    page.locator("[data-preview-clinic]").first.wait_for()
    assert "Layla Al-Harbi" in page.locator("[data-preview-clinic]").inner_text()
    page.click("button[data-share]")
    page.locator(".message", has_text="shared with 1 clinic").wait_for()
    referral = Referral.objects.get()
    [to_clinic] = [email for email in mail.outbox if email.to == [referral.clinic.contact_email]]

    # The clinic opens its link in Korean and answers.
    clinic = browser.new_context().new_page()
    clinic.goto(demo_site.url + path_of(re.search(r"http://\S+/clinic-case/\S+/", to_clinic.body).group(0)))
    assert clinic.locator("html").get_attribute("lang") == "ko"
    clinic.get_by_text("Layla Al-Harbi").first.wait_for()
    with translation.override("ko"):
        question = str(ClinicAnswer._meta.get_field("can_treat").verbose_name)
    assert question != "can you treat this patient?" and question in clinic.locator("main").inner_text()
    clinic.check("input[name=can_treat][value=yes]")
    clinic.locator("input[name=treatments]").first.check()
    clinic.fill("#id_plan", "보톡스 주사 후 재활 치료를 2주간 진행합니다.")
    clinic.fill("#id_earliest_start", (timezone.localdate() + datetime.timedelta(days=21)).isoformat())
    clinic.fill("#id_stay_days", "14")
    clinic.fill("#id_price_min_krw", "6000000")
    clinic.fill("#id_price_max_krw", "9000000")
    clinic.fill("#id_valid_until", (timezone.localdate() + datetime.timedelta(days=60)).isoformat())
    clinic.click("button[type=submit]")
    clinic.locator(".notice, .message").first.wait_for()
    answer = ClinicAnswer.objects.get()
    assert (answer.price_min_krw, answer.stay_days, answer.published_at) == (6_000_000, 14, None)

    # The coordinator publishes it.
    page.reload()
    page.locator(f"[data-referral={HANBIT}]").locator("text=Publish to the patient").click()
    page.locator(".message", has_text="is now shown to the patient").wait_for()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED

    # The patient compares it, right to left, and prefers it.
    patient.goto(demo_site.url + follow_up)
    assert patient.locator("html").get_attribute("dir") == "rtl"
    prices = patient.locator(".offer-price")
    assert prices.locator("[data-currency=USD]").count() == 1
    assert prices.locator("[data-currency=SAR]").count() == 1
    with translation.override("ar"):
        assert translation.gettext("Estimate at the exchange rates of %(date)s").split("%")[0].strip() in (
            prices.inner_text()
        )
    assert patient.locator('[lang="ko"]', has_text="보톡스 주사").count() == 1
    offer = patient.locator(f'form[action$="/offers/{answer.pk}/"]')
    offer.locator('input[value="prefer"]').check()
    offer.locator("button[type=submit]").click()
    patient.locator(".timeline", has_text=referral.clinic.name_ar or referral.clinic.name_en).wait_for()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW

    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        AuditAction.SHARE,
        AuditAction.CLINIC_VIEW,
        AuditAction.CLINIC_ANSWER,
        AuditAction.PUBLISH,
    } <= actions
    assert unexpected(console_errors) == []
