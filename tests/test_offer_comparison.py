"""The patient's side of sharing a case with clinics: the optional consent to share their name and
contact details, the published answers side by side on the follow-up page (prices converted and
labelled as an estimate), and the patient's preference or question about one offer."""

import datetime
import functools
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from clinics.models import Clinic
from inquiries.forms import CONSENT_SHARE_WITH_CLINICS
from inquiries.models import Inquiry, InquiryStatus, TimelineKind
from inquiries.services import CONSENT_SHARE_VERSION, inquiry_transition
from referrals.models import CanTreat, ClinicAnswer, Referral
from referrals.services import new_link_token
from tests.support.browser import browser_marks
from tests.support.patients import follow_up_url_from, path_of, submit

PLAN_KO = "바클로펜 펌프 삽입술 후 2주간 집중 재활 치료를 제안합니다."
INCLUDED_KO = "입원비, 수술비, 통역 서비스"


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


def browser_test(test):
    return functools.reduce(lambda marked, mark: mark(marked), browser_marks(), test)


def new_request(client, *, page_language="ar", country="SA", share=False, email=None):
    """A request sent through the form; returns the inquiry and the path of its follow-up page."""
    email = email or f"{country.lower()}-{page_language}@example.com"
    response = submit(
        client,
        page_language,
        email=email,
        language=page_language,
        country=country,
        consent_share="on" if share else None,
    )
    assert response.status_code == 302
    [confirmation] = [message for message in mail.outbox if message.to == [email]]
    mail.outbox.clear()
    return Inquiry.objects.get(email=email), path_of(follow_up_url_from(confirmation))


def answered(inquiry):
    """The inquiry as a published answer leaves it: shared with clinics, then answered."""
    for status in (InquiryStatus.IN_REVIEW, InquiryStatus.WITH_CLINICS, InquiryStatus.ANSWERED):
        inquiry_transition(inquiry=inquiry, to=status, by=None)
    mail.outbox.clear()
    return inquiry


def clinic_answer(inquiry, slug, *, published=True, **fields):
    clinic = Clinic.objects.get(slug=slug)
    _token, token_hash = new_link_token()
    referral = Referral.objects.create(
        inquiry=inquiry,
        clinic=clinic,
        token_hash=token_hash,
        language="ko",
        expires_at=timezone.now() + datetime.timedelta(days=14),
    )
    today = timezone.localdate()
    values = {
        "can_treat": CanTreat.YES,
        "plan": PLAN_KO,
        "doctor": clinic.doctors.first(),
        "earliest_start": today + datetime.timedelta(days=40),
        "stay_days": 14,
        "price_min_krw": 13_850_000,  # 10,000 US dollars, 37,534 riyals, 34,625,000 tögrögs
        "price_max_krw": 27_700_000,  # 20,000 US dollars, 75,068 riyals, 69,250,000 tögrögs
        "included": INCLUDED_KO,
        "valid_until": today + datetime.timedelta(days=90),
        "text_language": "ko",
        "published_at": timezone.now() if published else None,
        "coordinator_note": "",
        **fields,
    }
    answer = ClinicAnswer.objects.create(referral=referral, **values)
    answer.treatments.set(clinic.treatments.all()[:2])
    return answer


def offers_section(html):
    match = re.search(r'<section id="offers".*?</section>', html, re.S)
    return match.group(0) if match else ""


def estimate(section, currency):
    return re.search(rf'<li data-currency="{currency}">(.*?)</li>', section, re.S).group(1)


# --- The consent to share --------------------------------------------------------------------------


@pytest.mark.parametrize("page_language", ["en", "ar"])
def test_consent_to_share_is_recorded_with_its_wording_and_version_when_ticked(
    client, request_choices, page_language
):
    inquiry, _path = new_request(client, page_language=page_language, share=True)

    assert inquiry.consent_share_at is not None
    assert inquiry.consent_share_at == inquiry.consent_health_data_at
    assert inquiry.consent_share_version == CONSENT_SHARE_VERSION
    with translation.override(page_language):
        assert inquiry.consent_share_text == str(CONSENT_SHARE_WITH_CLINICS)
    assert inquiry.consent_share_text != inquiry.consent_health_data_text


def test_no_consent_to_share_is_recorded_when_not_ticked(client, request_choices):
    inquiry, _path = new_request(client, page_language="en", share=False)

    assert inquiry.consent_share_at is None
    assert inquiry.consent_share_text == ""
    assert inquiry.consent_share_version == ""
    # The request itself is stored: the consent to share is optional.
    assert inquiry.consent_health_data_at is not None


def test_request_form_offers_the_consent_to_share_unticked_below_the_health_data_consent(
    client, request_choices
):
    html = client.get("/en/inquiries/new/").content.decode()

    assert html.index('name="consent_health_data"') < html.index('name="consent_share"')
    assert not re.search(r'name="consent_share"[^>]*checked', html)
    assert re.search(r'name="consent_share"[^>]*required', html) is None
    assert str(CONSENT_SHARE_WITH_CLINICS).replace("'", "&#x27;") in html


@pytest.mark.parametrize("share", [True, False])
def test_follow_up_page_says_what_the_patient_agreed_to_share(client, request_choices, share):
    _inquiry, path = new_request(client, page_language="en", share=share)

    section = re.search(
        r'<section id="sharing-consent".*?</section>', client.get(path).content.decode(), re.S
    )

    shared = "you agreed that your name and contact details may be shared"
    not_shared = "You did not agree to share your name and contact details with clinics."
    assert (shared in section.group(0)) is share
    assert (not_shared in section.group(0)) is not share
    if share:
        assert str(CONSENT_SHARE_WITH_CLINICS).replace("'", "&#x27;") in section.group(0)


# --- The comparison --------------------------------------------------------------------------------


def test_arabic_follow_up_page_compares_published_offers_right_to_left_with_estimated_prices(client, demo):
    inquiry, path = new_request(client, page_language="ar", country="SA")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital", coordinator_note="ملاحظة المنسق")
    clinic_answer(inquiry, "busan-haeundae-neuro-centre", plan="Unpublished plan", published=False)

    html = client.get(path).content.decode()
    section = offers_section(html)

    assert '<html lang="ar" dir="rtl">' in html
    assert tr("ar", "The clinics' offers") in section
    # The published offer, in its own column; the unpublished one nowhere on the page.
    with translation.override("ar"):
        hanbit_name = Clinic.objects.get(slug="hanbit-neuroscience-hospital").name
        busan_name = Clinic.objects.get(slug="busan-haeundae-neuro-centre").name
        assert f'href="{hanbit.referral.clinic.get_absolute_url()}"' in section
    assert hanbit_name in section
    assert busan_name not in section
    assert "Unpublished plan" not in html
    # The fixed parts in Arabic, the clinic's texts as written, marked Korean.
    assert tr("ar", "Proposed treatments") in section
    assert tr("ar", "Yes, we can treat this patient") in section
    assert f'<div class="clinic-text" lang="ko" dir="ltr">{PLAN_KO}</div>' in section
    assert f'<div class="clinic-text" lang="ko" dir="ltr">{INCLUDED_KO}</div>' in section
    with translation.override("ar"):
        korean = translation.gettext("Korean")
        written = translation.gettext("Written by the clinic in %(language)s") % {"language": korean}
    assert written in section
    assert "ملاحظة المنسق" in section
    # Won, then US dollars and Saudi riyals at the configured rates, labelled as an estimate.
    assert "13,850,000" in section and "27,700,000" in section
    usd = estimate(section, "USD")
    assert "10,000" in usd and "20,000" in usd and "US$" in usd
    sar = estimate(section, "SAR")
    assert "37,534" in sar and "75,068" in sar and "ر.س." in sar
    with translation.override("ar"):
        label = translation.gettext("Estimate at the exchange rates of %(date)s") % {
            "date": date_format(datetime.date(2026, 11, 1), "DATE_FORMAT")
        }
    assert label in section
    # The clinic's current accreditations and languages from the directory.
    assert "JCI" in section
    assert 'lang="ru"' in section


def test_patient_in_mongolia_sees_the_estimate_in_togrog(client, demo):
    inquiry, path = new_request(client, page_language="mn", country="MN")
    answered(inquiry)
    clinic_answer(inquiry, "incheon-gateway-medical-center")

    section = offers_section(client.get(path).content.decode())

    mnt = estimate(section, "MNT")
    assert "34,625,000" in mnt and "69,250,000" in mnt
    assert "10,000" in estimate(section, "USD")


def test_patient_whose_currency_has_no_rate_sees_us_dollars_only(client, request_choices):
    inquiry, path = new_request(client, page_language="en", country="KR", email="seoul@example.com")
    answered(inquiry)
    clinic_answer(inquiry, "hanbit-neuroscience-hospital")

    section = offers_section(client.get(path).content.decode())

    assert re.findall(r'data-currency="(\w+)"', section) == ["USD"]


def test_no_comparison_before_an_answer_is_published(client, request_choices):
    inquiry, path = new_request(client, page_language="en")
    clinic_answer(inquiry, "hanbit-neuroscience-hospital", published=False)

    html = client.get(path).content.decode()

    assert 'id="offers"' not in html
    assert PLAN_KO not in html


def test_comparison_is_rendered_in_the_same_number_of_queries_for_one_and_three_offers(client, demo):
    inquiry, path = new_request(client, page_language="en")
    answered(inquiry)
    clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    client.get(path)

    with CaptureQueriesContext(connection) as one_offer:
        html = client.get(path).content.decode()
    assert len(re.findall(r'class="offer-form"', html)) == 1

    clinic_answer(inquiry, "busan-haeundae-neuro-centre")
    clinic_answer(inquiry, "seoul-riverside-rehabilitation-hospital")
    with CaptureQueriesContext(connection) as three_offers:
        html = client.get(path).content.decode()
    assert len(re.findall(r'class="offer-form"', html)) == 3

    assert len(three_offers) == len(one_offer)


# --- The patient's preference or question ----------------------------------------------------------


def offer_url(path, answer):
    return f"{path}offers/{answer.pk}/"


def offer_post(answer, choice, message=""):
    prefix = f"offer-{answer.pk}"
    return {
        f"{prefix}-submission_key": "6f1c1a52-54a1-4c4b-9b0e-0d8f7c1e2a11",
        f"{prefix}-choice": choice,
        f"{prefix}-message": message,
    }


def test_preference_lands_in_the_timeline_and_moves_the_inquiry_to_review(client, request_choices, settings):
    inquiry, path = new_request(client, page_language="ar", country="SA")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    clinic_answer(inquiry, "busan-haeundae-neuro-centre")

    response = client.post(offer_url(path, hanbit), offer_post(hanbit, "prefer", "أفضل هذا العرض"))

    assert response.status_code == 302
    assert response["Location"] == f"{path}#timeline"
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW
    assert inquiry.unread_patient_messages == 1
    message = inquiry.timeline.get(kind=TimelineKind.PATIENT_MESSAGE)
    with translation.override("ar"):
        hanbit_name = hanbit.referral.clinic.name
    assert hanbit_name in message.body
    assert "أفضل هذا العرض" in message.body
    assert message.is_public
    assert inquiry.timeline.filter(kind=TimelineKind.STATUS, new_status=InquiryStatus.IN_REVIEW).exists()
    assert sorted(email.to[0] for email in mail.outbox) == sorted(settings.COORDINATOR_EMAILS)
    # The patient sees it in the history.
    assert "أفضل هذا العرض" in client.get(path).content.decode()


def test_the_same_preference_sent_twice_is_stored_once(client, request_choices):
    inquiry, path = new_request(client, page_language="en")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")

    client.post(offer_url(path, hanbit), offer_post(hanbit, "prefer"))
    client.post(offer_url(path, hanbit), offer_post(hanbit, "prefer"))

    assert inquiry.timeline.filter(kind=TimelineKind.PATIENT_MESSAGE).count() == 1


def test_question_about_an_offer_reaches_the_coordinator_without_moving_the_status(client, request_choices):
    inquiry, path = new_request(client, page_language="en")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")

    response = client.post(offer_url(path, hanbit), offer_post(hanbit, "question", "Is the flight included?"))

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED
    assert inquiry.unread_patient_messages == 1
    body = inquiry.timeline.get(kind=TimelineKind.PATIENT_MESSAGE).body
    assert "Is the flight included?" in body
    assert hanbit.referral.clinic.name in body


def test_question_without_text_is_refused_in_the_patients_language_and_nothing_is_saved(
    client, request_choices
):
    inquiry, path = new_request(client, page_language="ar", country="SA")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    entries = inquiry.timeline.count()

    response = client.post(offer_url(path, hanbit), offer_post(hanbit, "question", "   "))

    assert response.status_code == 400
    html = response.content.decode()
    assert tr("ar", "Write your question about this offer.") in offers_section(html)
    assert re.search(r'value="question"[^>]*checked', html)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED
    assert inquiry.unread_patient_messages == 0
    assert inquiry.timeline.count() == entries
    assert mail.outbox == []


@pytest.mark.parametrize("case", ["unpublished", "another inquiry's", "wrong token"])
def test_patient_cannot_answer_an_offer_they_cannot_see(client, request_choices, case):
    inquiry, path = new_request(client, page_language="en")
    answered(inquiry)
    other, _other_path = new_request(client, page_language="en", email="other@example.com")
    answer = {
        "unpublished": lambda: clinic_answer(inquiry, "hanbit-neuroscience-hospital", published=False),
        "another inquiry's": lambda: clinic_answer(other, "hanbit-neuroscience-hospital"),
        "wrong token": lambda: clinic_answer(inquiry, "hanbit-neuroscience-hospital"),
    }[case]()
    url = offer_url(path, answer)
    if case == "wrong token":
        token = path.rstrip("/").rsplit("/", 1)[1]
        url = url.replace(f"/{token}/", f"/{'A' * len(token)}/")

    response = client.post(url, offer_post(answer, "prefer"))

    assert response.status_code == 404
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED
    assert not inquiry.timeline.filter(kind=TimelineKind.PATIENT_MESSAGE).exists()


def test_closed_request_takes_no_preference(client, request_choices):
    inquiry, path = new_request(client, page_language="en")
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    inquiry_transition(inquiry=inquiry, to=InquiryStatus.CLOSED, by=None)

    response = client.post(offer_url(path, hanbit), offer_post(hanbit, "prefer"))

    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.CLOSED
    assert not inquiry.timeline.filter(kind=TimelineKind.PATIENT_MESSAGE).exists()
    assert 'class="offer-form"' not in client.get(path).content.decode()


# --- In Chromium -----------------------------------------------------------------------------------


@browser_test
def test_request_form_records_the_consent_to_share_ticked_after_a_validation_error(
    page, demo_site, console_errors
):
    from tests.test_browser_forms import fill_request, unexpected

    page.goto(f"{demo_site.url}/ar/inquiries/new/")
    form = page.locator("form.inquiry-form")
    fill_request(form, email="share@example.com", phone="12", consent=True)
    form.locator("[name=consent_share]").check()
    form.locator("button[type=submit]").click()

    page.locator("#form-errors").wait_for()
    assert Inquiry.objects.count() == 0
    form = page.locator("form.inquiry-form")
    form.locator("[name=phone]").fill("8 912 345 67 89")
    # The box ticked on the refused try is still ticked; the patient leaves it so.
    assert form.locator("[name=consent_share]").is_checked()
    if not form.locator("[name=consent_health_data]").is_checked():
        form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r".*/ar/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert inquiry.consent_share_at is not None
    assert inquiry.consent_share_version == CONSENT_SHARE_VERSION
    with translation.override("ar"):
        assert inquiry.consent_share_text == str(CONSENT_SHARE_WITH_CLINICS)
    assert unexpected(console_errors) == []


@browser_test
def test_patient_asks_without_text_then_states_a_preference(page, demo_site, client, console_errors):
    from tests.test_browser_forms import unexpected

    inquiry, path = new_request(client, page_language="ar", country="SA")
    answered(inquiry)
    clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    busan = clinic_answer(inquiry, "busan-haeundae-neuro-centre")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo_site.url}{path}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    offer = page.locator(f'form[action$="/offers/{busan.pk}/"]')

    offer.locator('input[value="question"]').check()
    offer.locator("button[type=submit]").click()
    error = page.locator(".offer-form .field-error")
    error.wait_for()
    assert tr("ar", "Write your question about this offer.") in error.inner_text()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED

    offer = page.locator(f'form[action$="/offers/{busan.pk}/"]')
    offer.locator('input[value="prefer"]').check()
    offer.locator("textarea").fill("نفضل هذا المستشفى")
    offer.locator("button[type=submit]").click()
    page.locator(".timeline", has_text="نفضل هذا المستشفى").wait_for()

    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.IN_REVIEW
    with translation.override("ar"):
        assert page.locator(".status-box").inner_text().count(str(InquiryStatus.IN_REVIEW.label)) == 1
    assert unexpected(console_errors) == []


@browser_test
def test_offers_stand_side_by_side_on_a_wide_screen_and_stack_on_a_phone(page, demo_site, client):
    inquiry, path = new_request(client, page_language="ru", country="KZ")
    answered(inquiry)
    for slug in (
        "hanbit-neuroscience-hospital",
        "busan-haeundae-neuro-centre",
        "seoul-riverside-rehabilitation-hospital",
    ):
        clinic_answer(inquiry, slug)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo_site.url}{path}")
    headers = page.locator(".offers-table thead th")
    tops = {round(box["y"]) for box in (headers.nth(i).bounding_box() for i in range(3))}
    assert len(tops) == 1  # one row of clinic columns

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo_site.url}{path}")
    width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= viewport
    # One card per clinic: the second clinic's name comes after the first clinic's form.
    first_form = page.locator(".offer-form").nth(0).bounding_box()
    second_clinic = headers.nth(1).bounding_box()
    assert second_clinic["y"] > first_form["y"] + first_form["height"]
    price = page.locator(".offer-price").first
    assert price.evaluate("cell => getComputedStyle(cell, '::before').content") == '"{}"'.format(
        tr("ru", "Estimated price")
    )


@browser_test
@pytest.mark.parametrize("language", ["en", "ar"])
def test_follow_up_page_with_offers_passes_axe_and_fits_phone_and_desktop(page, demo_site, client, language):
    from axe_playwright_python.sync_playwright import Axe

    from tests.support.quality import AXE_OPTIONS, LAYOUT_PROBLEMS, UNSTICK, axe_report

    inquiry, path = new_request(client, page_language=language, country="SA", share=True)
    answered(inquiry)
    for slug in (
        "hanbit-neuroscience-hospital",
        "busan-haeundae-neuro-centre",
        "incheon-gateway-medical-center",
    ):
        clinic_answer(inquiry, slug, coordinator_note="A short note from the coordinator.")
    problems = []
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{demo_site.url}{path}")
        page.evaluate("document.fonts.ready.then(() => true)")
        problems += [f"{width}px: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS)]
        page.evaluate(UNSTICK)
        problems += [
            f"{width}px: {line}" for line in axe_report(Axe().run(page, options=AXE_OPTIONS).response)
        ]

    assert problems == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_follow_up_page_with_offers_has_no_nu_html_checker_errors(
    client, request_choices, tmp_path, language
):
    from tests.support.quality import nu_errors, require_java

    require_java()
    inquiry, path = new_request(client, page_language=language, country="SA", share=True)
    answered(inquiry)
    hanbit = clinic_answer(inquiry, "hanbit-neuroscience-hospital")
    clinic_answer(inquiry, "busan-haeundae-neuro-centre")
    pages = {
        "offers": client.get(path).content,
        "refused": client.post(offer_url(path, hanbit), offer_post(hanbit, "question")).content,
    }
    files = []
    for name, content in pages.items():
        files.append(tmp_path / f"{language}-{name}.html")
        files[-1].write_bytes(content)

    errors = nu_errors(files)

    assert errors == [], "\n".join(errors)
