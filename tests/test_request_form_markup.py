"""The request form's markup: its fields are rendered once and reused (``FieldGroupReused``), and what a
page shows with the reused markup is what a fresh rendering would show, in each language and for each
value; the lists it offers (conditions, clinics) are those of the page."""

import re
import uuid

import pytest
from django.db import connection
from django.forms.boundfield import BoundField
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from clinics.models import Clinic
from conditions.models import ConditionStatus
from inquiries.forms import FieldGroupReused, InquiryForm
from tests.factories import make_clinic, make_condition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_renderings_kept():
    FieldGroupReused._rendered.clear()
    yield
    FieldGroupReused._rendered.clear()


def rendered_afresh(form, name):
    return BoundField(form, form.fields[name], name).as_field_group()


def offered_clinics(html):
    return re.findall(r'name="preferred_clinics" value="([\w-]+)"', html)


def offered_conditions(html):
    select = re.search(r'<select name="condition".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([\w-]*)"( selected)?>([^<]*)</option>', select)


@pytest.mark.parametrize("language", ["en", "ko", "ar"])
def test_reused_fields_are_what_a_fresh_rendering_shows(language):
    make_condition(slug="clonus", name_en="Clonus", name_ko="클로누스")
    clinic = make_clinic(slug="seoul-neuro")
    with translation.override(language):
        for _ in range(2):  # rendered, then reused
            form = InquiryForm(initial={"submission_key": uuid.uuid4(), "preferred_clinics": [clinic.slug]})
            for name in form.fields:
                assert form[name].as_field_group() == rendered_afresh(form, name), name
    assert FieldGroupReused._rendered


def test_the_form_is_in_each_pages_language_whatever_was_rendered_before(client):
    english = client.get("/en/inquiries/new/").content.decode()
    korean = client.get("/ko/inquiries/new/").content.decode()
    assert re.search(r'<label for="id_full_name">Full name', english)
    assert re.search(r'<label for="id_full_name">성명', korean)
    assert 'lang="ko"' in korean and "Full name" not in korean


def test_a_value_given_to_the_form_is_shown_to_it_alone():
    given = InquiryForm(initial={"full_name": "Ada Lovelace", "language": "ru"})
    blank = InquiryForm()
    assert 'value="Ada Lovelace"' in given["full_name"].as_field_group()
    assert '<option value="ru" selected>' in given["language"].as_field_group()
    assert "Ada Lovelace" not in blank["full_name"].as_field_group()
    assert '<option value="en" selected>' in blank["language"].as_field_group()
    # What a visitor typed is not kept for the next visitor.
    assert all("Ada Lovelace" not in html for html in FieldGroupReused._rendered.values())


def test_a_form_sent_back_shows_its_values_and_errors():
    sent = InquiryForm({"full_name": "Ada Lovelace", "email": "not an address"})
    sent.is_valid()
    html = sent["email"].as_field_group()
    assert 'value="not an address"' in html
    assert 'class="errorlist' in html
    assert 'value="Ada Lovelace"' in sent["full_name"].as_field_group()
    assert not FieldGroupReused._rendered


def test_the_condition_pages_form_offers_the_listed_clinics_by_name_in_the_page_language(client):
    condition = make_condition(treatments=1)
    treatment = condition.condition_treatments.get().treatment
    for slug, name_en, name_ko in [
        ("delta", "Delta Clinic", "라 병원"),
        ("alpha", "Alpha Clinic", ""),
        ("charlie", "Charlie Clinic", "가 병원"),
        ("bravo", "bravo clinic", ""),
    ]:
        make_clinic(slug=slug, name_en=name_en, name_ko=name_ko, treatments=[treatment])

    for language, expected in [
        ("en", ["alpha", "charlie", "delta", "bravo"]),
        ("ko", ["alpha", "bravo", "charlie", "delta"]),
    ]:
        html = client.get(f"/{language}/conditions/{condition.slug}/").content.decode()
        with translation.override(language):
            by_name = list(Clinic.objects.order_by_name().values_list("slug", flat=True))
        assert offered_clinics(html) == by_name == expected


def test_the_forms_condition_list_names_the_published_conditions_in_the_page_language(client):
    clonus = make_condition(slug="clonus", name_en="Clonus", name_ko="클로누스")
    make_condition(slug="ataxia", name_en="Ataxia")
    make_condition(slug="draft-page", name_en="Draft page", status=ConditionStatus.DRAFT)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/ko/conditions/{clonus.slug}/").content.decode()

    assert offered_conditions(html) == [
        ("", "", "잘 모르겠음 / 기타"),
        ("ataxia", "", "Ataxia"),
        ("clonus", " selected", "클로누스"),
    ]
    # The list reads names, not each condition's whole page in every language.
    listing = [
        query["sql"] for query in queries if 'ORDER BY "conditions_condition"."name_en"' in query["sql"]
    ]
    assert listing and all("overview_en" not in sql for sql in listing)
