"""The stand-alone request page at any number of clinics: it lists a bounded number of them (the chosen
ones, those found by name, the best matches of the condition) and accepts any published clinic."""

import functools
import io
import re
from html import unescape

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from clinics.models import Clinic, ClinicKind
from conditions.models import Condition
from inquiries.forms import CLINICS_OFFERED, CONSENT_HEALTH_DATA
from inquiries.models import Inquiry
from tests.support.browser import browser_marks
from tests.support.patients import valid_data

MAX_PAGE_BYTES = 30_000
OFFERED = re.compile(r'name="preferred_clinics" value="([a-z0-9-]+)"')


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def conditions(db):
    from conditions.demo.loader import load as load_conditions

    with TestCase.captureOnCommitCallbacks(execute=True):
        load_conditions()


def add_clinics(count, *, published=True, start=0):
    """``count`` clinics practising clonus's specialty, named "Bulk Neuro Clinic <n>" (in bulk, as an
    import leaves them: their search texts written, the match table rebuilt)."""
    specialty = Condition.objects.get(slug="clonus").specialties.first()
    clinics = Clinic.objects.bulk_create(
        Clinic(
            slug=f"bulk-neuro-clinic-{number}",
            name_en=f"Bulk Neuro Clinic {number}",
            legal_name_ko=f"벌크 신경 클리닉 {number}",
            kind=ClinicKind.CLINIC,
            city="seoul",
            address_ko="서울특별시",
            address_en="Seoul",
            is_published=published,
            search_text=f"bulk neuro clinic {number}",
            search_names=f"bulk neuro clinic {number}",
        )
        for number in range(start, start + count)
    )
    Clinic.specialties.through.objects.bulk_create(
        Clinic.specialties.through(clinic=clinic, specialty=specialty) for clinic in clinics
    )
    call_command("rebuild_clinic_matches", stdout=io.StringIO())
    return clinics


def fetched(client, path, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, data) if data is not None else client.get(path)
    return response, len(queries)


@pytest.mark.parametrize("path", ["/en/inquiries/new/", "/en/inquiries/new/?condition=clonus"])
def test_request_page_stays_small_in_a_fixed_number_of_queries_however_many_clinics(client, conditions, path):
    add_clinics(3)
    few, few_queries = fetched(client, path)
    add_clinics(297, start=3)
    many, many_queries = fetched(client, path)

    assert many.status_code == few.status_code == 200
    assert many_queries == few_queries
    assert len(many.content) < MAX_PAGE_BYTES
    offered = OFFERED.findall(many.content.decode())
    if "condition" in path:
        # The best matches of the condition: as many as offered, not all 300.
        assert len(offered) == CLINICS_OFFERED
        assert all(slug.startswith("bulk-neuro-clinic-") for slug in offered)
    else:
        assert offered == []


def test_finding_clinics_by_name_lists_a_few_keeps_the_answers_and_sends_nothing(client, conditions):
    add_clinics(300)
    data = valid_data(condition="", preferred_clinics=None, clinic_search="bulk neuro", find_clinics="1")

    response, _queries = fetched(client, "/en/inquiries/new/", data)

    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert len(response.content) < MAX_PAGE_BYTES
    assert len(OFFERED.findall(html)) == CLINICS_OFFERED
    assert 'id="form-errors"' not in html  # nothing was sent, so nothing is wrong yet
    assert 'name="full_name" value="Aigerim Bekova"' in html
    assert 'name="clinic_search" value="bulk neuro"' in html
    assert Inquiry.objects.count() == 0


def test_a_clinic_chosen_from_a_link_is_preselected_and_named_in_the_title(client, conditions):
    add_clinics(300)

    html = unescape(client.get("/ko/inquiries/new/?clinic=bulk-neuro-clinic-250").content.decode())

    assert re.search(r'value="bulk-neuro-clinic-250"[^>]*checked', html)
    assert OFFERED.findall(html) == ["bulk-neuro-clinic-250"]
    assert "Bulk Neuro Clinic 250" in html.split("</h1>")[0]


def test_a_request_naming_clinics_not_listed_on_the_page_is_stored_with_them(client, conditions):
    add_clinics(300)
    chosen = ["bulk-neuro-clinic-7", "bulk-neuro-clinic-299"]

    response = client.post("/en/inquiries/new/", valid_data(preferred_clinics=chosen))

    assert response.status_code == 302
    assert sorted(Inquiry.objects.get().preferred_clinics.values_list("slug", flat=True)) == sorted(chosen)


@pytest.mark.parametrize("language", ["en", "ru", "ar"])
@pytest.mark.parametrize("kind", ["unknown", "not published"])
def test_a_clinic_that_cannot_be_chosen_is_refused_in_the_page_language_and_nothing_saved(
    client, conditions, language, kind
):
    add_clinics(3)
    add_clinics(1, published=False, start=3)
    slug = "no-such-clinic" if kind == "unknown" else "bulk-neuro-clinic-3"

    response = client.post(
        f"/{language}/inquiries/new/", valid_data(preferred_clinics=["bulk-neuro-clinic-0", slug])
    )

    html = unescape(response.content.decode())
    assert response.status_code == 400
    error = tr(language, "Select a valid choice. %(value)s is not one of the available choices.")
    assert error % {"value": slug} in html
    assert Inquiry.objects.count() == 0
    # What the patient had chosen is still listed, ticked.
    assert re.search(r'value="bulk-neuro-clinic-0"[^>]*checked', html)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_too_many_clinics_are_refused_before_any_lookup_and_nothing_saved(client, conditions, language):
    add_clinics(300)
    four = [f"bulk-neuro-clinic-{number}" for number in range(4)]
    all_of_them = [f"bulk-neuro-clinic-{number}" for number in range(300)]

    four_response, four_queries = fetched(
        client, f"/{language}/inquiries/new/", valid_data(preferred_clinics=four)
    )
    all_response, all_queries = fetched(
        client, f"/{language}/inquiries/new/", valid_data(preferred_clinics=all_of_them)
    )

    for response in (four_response, all_response):
        assert response.status_code == 400
        assert tr(language, "Choose at most three clinics.") in unescape(response.content.decode())
        assert len(response.content) < MAX_PAGE_BYTES
    assert all_queries == four_queries
    assert Inquiry.objects.count() == 0


def test_a_clinic_searched_for_but_not_ticked_is_asked_for(client, conditions):
    add_clinics(20)

    response = client.post(
        "/en/inquiries/new/",
        valid_data(condition="", preferred_clinics=None, clinic_search="bulk neuro clinic 12"),
    )

    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Tick the clinic you mean in the list below, or empty this box." in html
    assert "bulk-neuro-clinic-12" in OFFERED.findall(html)
    assert Inquiry.objects.count() == 0


@pytest.mark.parametrize("language", ["en", "ru", "ko"])
def test_the_country_chosen_stays_chosen_after_an_error_in_the_page_language(client, conditions, language):
    client.get(f"/{language}/inquiries/new/")  # the country list of this language is built once

    response = client.post(f"/{language}/inquiries/new/", valid_data(country="KZ", phone="12"))

    html = response.content.decode()
    assert response.status_code == 400
    selected = re.findall(r'<option value="([A-Z]*)" selected>([^<]*)', html.split('name="country"')[1])
    with translation.override(language):
        from django_countries import countries

        assert selected[:1] == [("KZ", countries.name("KZ"))]
    assert (
        len(re.findall(r"<option[^>]* selected>", html.split('name="country"')[1].split("</select>")[0])) == 1
    )


def browser_test(test):
    return functools.reduce(lambda marked, mark: mark(marked), browser_marks(), test)


@browser_test
def test_stand_alone_form_finds_a_clinic_and_is_sent_with_it_after_a_validation_error(
    page, live_server, console_errors
):
    from conditions.demo.loader import load as load_conditions
    from tests.test_browser_forms import fill_request, unexpected

    with TestCase.captureOnCommitCallbacks(execute=True):
        load_conditions()
    add_clinics(300)

    page.goto(f"{live_server.url}/ru/inquiries/new/")
    form = page.locator("form.inquiry-form")
    fill_request(form, email="bulk@example.com", phone="+7 701 234 5678", consent=False)
    form.locator("[name=clinic_search]").fill("bulk neuro clinic 250")
    form.locator("[name=find_clinics]").click()

    # The page comes back with the clinic to tick and what was typed; nothing sent yet.
    form = page.locator("form.inquiry-form")
    form.locator('[name=preferred_clinics][value="bulk-neuro-clinic-250"]').check()
    assert form.locator("[name=full_name]").input_value() == "Aigerim Bekova"
    assert Inquiry.objects.count() == 0
    form.locator("button[type=submit]").click()

    # Refused for the missing consent, in Russian; the clinic stays ticked.
    page.locator("#form-errors").wait_for()
    consent_error = tr("ru", "We can only answer if you agree to the processing of your health information.")
    summary = page.locator("#form-errors").inner_text()
    assert consent_error in summary
    # The consent's long sentence stays by its box: the summary links the error alone.
    with translation.override("ru"):
        assert str(CONSENT_HEALTH_DATA)[:60] not in summary
    page.locator("#form-errors a", has_text=consent_error).click()
    assert page.evaluate("document.activeElement.name") == "consent_health_data"
    form = page.locator("form.inquiry-form")
    assert form.locator('[name=preferred_clinics][value="bulk-neuro-clinic-250"]').is_checked()
    assert Inquiry.objects.count() == 0
    form.locator("[name=clinic_search]").fill("")
    form.locator("[name=consent_health_data]").check()
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r".*/ru/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert list(inquiry.preferred_clinics.values_list("slug", flat=True)) == ["bulk-neuro-clinic-250"]
    assert unexpected(console_errors) == []
