"""Publication rules: a condition is published only with its reviewer, review dates and reader-facing
English text; a clinic only with a specialty, a supported language and its registration number. The
admin refuses with the rule's message and saves nothing; the demo loader refuses too."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from clinics.demo import loader as clinics_loader
from clinics.models import Clinic
from conditions.models import Condition, ConditionStatus
from tests.factories import make_clinic, make_condition, make_specialty
from tests.support.admin_forms import as_post_data, form_pairs
from tests.support.staff import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "a-long-admin-password")
    return signed_in(admin, client=client)


def clinic_form(client, clinic):
    url = f"/admin/clinics/clinic/{clinic.pk}/change/"
    return url, form_pairs(client.get(url).content.decode(), "clinic_form")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name_en", "", "A published condition needs its “name” in English."),
        ("summary_en", "", "A published condition needs its “short summary” in English."),
        ("overview_en", "", "A published condition needs its “overview” in English."),
        (
            "symptoms_intro_en",
            "",
            "A published condition needs its “introduction to the symptoms” in English.",
        ),
        (
            "care_intro_en",
            "",
            "A published condition needs its “introduction to care and treatment” in English.",
        ),
        ("reviewer_name_en", "", "A published condition needs its “medical reviewer” in English."),
        ("reviewer_credentials_en", "", "A published condition needs its “reviewer credentials” in English."),
        ("last_reviewed", None, "A published condition needs the date of its last review."),
        ("next_review_due", None, "A published condition needs the date of its next review."),
        ("next_review_due", datetime.date(2026, 1, 15), "The next review must come after the last review."),
    ],
)
def test_condition_publication_problems_name_each_missing_item(field, value, message):
    condition = make_condition(last_reviewed=datetime.date(2026, 1, 15))
    setattr(condition, field, value)

    problems = condition.publication_problems()

    assert {key: str(text) for key, text in problems.items()} == {field: message}


def test_condition_publication_problems_none_for_a_complete_condition():
    assert make_condition().publication_problems() == {}


def test_condition_publication_problem_is_translated():
    condition = make_condition()
    condition.care_intro_en = ""

    with translation.override("ko"):
        [message] = map(str, condition.publication_problems().values())

    assert message == "게시하는 질환에는 영어로 된 “관리 및 치료 소개”이(가) 필요합니다."


def test_condition_publication_problems_ignore_optional_sections():
    condition = make_condition(definition_en="", mechanism_en="", korea_intro_en="", other_names_en="")

    assert condition.publication_problems() == {}


def test_condition_draft_may_lack_everything():
    condition = make_condition(status=ConditionStatus.DRAFT, care_intro_en="", reviewer_name_en="")

    condition.full_clean()


def publish_form(client, condition):
    url = f"/admin/conditions/condition/{condition.pk}/publish/"
    return url, form_pairs(client.get(url).content.decode(), "publish_form")


def test_condition_admin_refuses_to_publish_without_english_care_intro(admin_client):
    condition = make_condition(status=ConditionStatus.IN_REVIEW, care_intro_en="")
    url, pairs = publish_form(admin_client, condition)

    response = admin_client.post(url, as_post_data(pairs, reviewer_name="Dr Park Minho"))

    assert response.status_code == 200
    assert "A published condition needs its “introduction to care and treatment” in English." in (
        response.content.decode()
    )
    condition.refresh_from_db()
    assert (condition.status, condition.reviewer_name_en) == ("in_review", "Dr Kim Jisoo")


def test_condition_admin_refuses_a_next_review_before_the_last_in_russian(admin_client):
    condition = make_condition(status=ConditionStatus.IN_REVIEW)
    url, pairs = publish_form(admin_client, condition)

    with translation.override("ru"):
        response = admin_client.post(
            url,
            as_post_data(pairs, reviewed_on="2026-05-01", next_review_due="2026-04-01"),
            HTTP_ACCEPT_LANGUAGE="ru",
        )

    assert response.status_code == 200
    assert "Следующая проверка должна быть позже последней." in response.content.decode()
    condition.refresh_from_db()
    assert (condition.status, condition.last_reviewed) == ("in_review", datetime.date(2026, 1, 15))


def test_condition_admin_publishes_a_complete_condition(admin_client):
    condition = make_condition(status=ConditionStatus.IN_REVIEW)
    url, pairs = publish_form(admin_client, condition)

    response = admin_client.post(url, as_post_data(pairs))

    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.PUBLISHED


def complete_clinic(**fields):
    fields.setdefault("foreign_patient_registration_number", "TEST-2020-0001")
    clinic = make_clinic(specialties=[make_specialty()], is_published=False, **fields)
    clinic.languages.create(language="ru", role="interpreter")
    return clinic


def test_clinic_publication_problems_name_each_missing_item():
    clinic = make_clinic(is_published=True)

    problems = {key: str(text) for key, text in clinic.publication_problems().items()}

    assert problems == {
        "foreign_patient_registration_number": (
            "A published clinic needs its foreign-patient attraction registration number."
        ),
        "specialties": "A published clinic needs at least one specialty.",
        "languages": "A published clinic needs at least one supported language.",
    }


def test_clinic_publication_problems_none_for_a_complete_clinic():
    assert complete_clinic().publication_problems() == {}


def test_clinic_publication_problem_is_translated():
    clinic = complete_clinic(foreign_patient_registration_number="")

    with translation.override("ja"):
        [message] = map(str, clinic.publication_problems().values())

    assert message == "公開する医療機関には外国人患者誘致の登録番号が必要です。"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"foreign_patient_registration_number": ""},
            "A published clinic needs its foreign-patient attraction registration number.",
        ),
        ({"specialties": []}, "A published clinic needs at least one specialty."),
        ({"languages-0-DELETE": "on"}, "A published clinic needs at least one supported language."),
    ],
)
def test_clinic_admin_refuses_to_publish_without_an_item(admin_client, change, message):
    clinic = complete_clinic()
    url, pairs = clinic_form(admin_client, clinic)

    response = admin_client.post(url, as_post_data(pairs, is_published="on", name_en="Renamed", **change))

    assert response.status_code == 200
    assert message in response.content.decode()
    clinic.refresh_from_db()
    assert (clinic.is_published, clinic.name_en, clinic.foreign_patient_registration_number) == (
        False,
        clinic.name_en,
        "TEST-2020-0001",
    )
    assert clinic.name_en != "Renamed"
    assert (clinic.specialties.count(), clinic.languages.count()) == (1, 1)


def test_clinic_admin_publishes_a_complete_clinic(admin_client):
    clinic = complete_clinic()
    url, pairs = clinic_form(admin_client, clinic)

    response = admin_client.post(url, as_post_data(pairs, is_published="on"))

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.is_published is True


def test_clinic_admin_saves_an_unpublished_clinic_without_the_items(admin_client):
    clinic = make_clinic(is_published=False)
    url, pairs = clinic_form(admin_client, clinic)

    response = admin_client.post(url, as_post_data(pairs, name_en="Renamed"))

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.name_en == "Renamed"


def test_demo_content_loads_within_the_rules(demo):
    published = Clinic.objects.published()

    assert published.count() == 12
    assert all(clinic.publication_problems() == {} for clinic in published)
    assert all(condition.publication_problems() == {} for condition in Condition.objects.published())


def test_demo_loader_refuses_a_published_clinic_without_registration(demo, monkeypatch):
    rows = clinics_loader.clinics_data()
    rows[0]["foreign_patient_registration_number"] = ""
    monkeypatch.setattr(clinics_loader, "clinics_data", lambda: rows)

    with pytest.raises(ValidationError, match="registration number"):
        clinics_loader.load()

    assert Clinic.objects.get(slug=rows[0]["slug"]).foreign_patient_registration_number == "SAMPLE-2009-0101"
