import datetime
import json
import re
from html import unescape

import pytest
from django.db import connection
from django.utils import translation

from clinics.models import Accreditation, Clinic, ClinicLanguage, ClinicService
from clinics.services import clinics_rebuild_search_text
from conditions.models import Condition
from tests.factories import make_clinic, make_condition

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 25)


@pytest.fixture
def demo(demo):
    """The demo content; the clonus condition as its page reads it."""
    return Condition.objects.with_page_content().get(slug="clonus")


def matched_slugs(condition, language):
    with translation.override(language):
        return [
            clinic.slug
            for clinic in Clinic.objects.published().for_condition(condition, language, today=TODAY)
        ]


def card_slugs(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def page_text(response):
    return unescape(response.content.decode())


def test_matching_counts_what_matched(demo):
    with translation.override("en"):
        hanbit = Clinic.objects.for_condition(demo, "en", today=TODAY).get(
            slug="hanbit-neuroscience-hospital"
        )
    # Six treatments for clonus, of which stretching is self-care advice: five clinical ones count.
    assert hanbit.matched_treatment_count == 5
    assert hanbit.matched_specialty_count == 3
    assert hanbit.current_accreditation_count == 2
    assert hanbit.speaks_reader_language


def test_unpublished_clinic_never_shows(client, demo):
    hidden = "unlisted-neurology-clinic"
    assert hidden not in matched_slugs(demo, "en")
    assert hidden not in card_slugs(page_text(client.get("/en/conditions/clonus/")))
    assert hidden not in card_slugs(page_text(client.get("/en/clinics/", {"q": "unlisted"})))
    assert client.get(f"/en/clinics/{hidden}/").status_code == 404


def test_expired_accreditation_is_not_shown_as_current(client, demo):
    html = page_text(client.get("/en/clinics/seoul-riverside-rehabilitation-hospital/"))
    accreditations = html.split('id="accreditations-heading"')[1].split("</section>")[0]
    assert "Designated rehabilitation hospital" in accreditations
    assert "KOIHA" not in accreditations  # expired in March 2025
    koiha = page_text(client.get("/en/clinics/", {"accreditation": "koiha"}))
    assert "seoul-riverside-rehabilitation-hospital" not in card_slugs(koiha)
    assert "busan-haeundae-neuro-centre" in card_slugs(koiha)


def test_accreditation_stops_counting_the_day_after_it_expires(demo):
    hanbit = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    jci = hanbit.accreditations.get(kind="jci")
    assert Accreditation.objects.current(jci.valid_until).filter(pk=jci.pk).exists()
    assert (
        not Accreditation.objects.current(jci.valid_until + datetime.timedelta(days=1))
        .filter(pk=jci.pk)
        .exists()
    )


def test_condition_page_filters_clinics_by_city_and_language(client, demo):
    seoul = card_slugs(page_text(client.get("/en/conditions/clonus/", {"city": "seoul"})))
    assert seoul == [
        "hanbit-neuroscience-hospital",
        "seoul-riverside-rehabilitation-hospital",
        "gangnam-movement-clinic",
    ]
    russian_in_seoul = card_slugs(
        page_text(client.get("/en/conditions/clonus/", {"city": "seoul", "language": "ru"}))
    )
    assert russian_in_seoul == ["hanbit-neuroscience-hospital"]
    html = page_text(client.get("/en/conditions/clonus/", {"city": "jeju", "language": "ar"}))
    assert card_slugs(html) == []
    assert "No clinic matches these filters." in html


def test_directory_filters_combine(client, demo):
    def listed(**params):
        return card_slugs(page_text(client.get("/en/clinics/", params)))

    assert len(listed()) == 12
    assert set(listed(city="busan")) == {"busan-haeundae-neuro-centre", "seomyeon-heart-clinic"}
    assert listed(city="busan", specialty="neurology") == ["busan-haeundae-neuro-centre"]
    assert set(listed(language="ru")) == {
        "hanbit-neuroscience-hospital",
        "busan-haeundae-neuro-centre",
        "incheon-gateway-medical-center",
        "seomyeon-heart-clinic",
    }
    assert listed(language="ru", treatment="intrathecal-baclofen-pump") == ["hanbit-neuroscience-hospital"]
    assert set(listed(services=["halal_meals"])) == {
        "hanbit-neuroscience-hospital",
        "bundang-neurology-clinic",
    }
    assert listed(services=["halal_meals", "visa_letter"]) == ["hanbit-neuroscience-hospital"]
    assert set(listed(accreditation="jci")) == {
        "hanbit-neuroscience-hospital",
        "incheon-gateway-medical-center",
        "songdo-joint-hospital",
    }  # Daejeon's JCI expired in 2024
    assert listed(accreditation="jci", city="incheon", treatment="joint-replacement", language="mn") == [
        "incheon-gateway-medical-center",
        "songdo-joint-hospital",
    ]


def test_directory_keeps_filters_in_the_url_and_shows_the_count(client, demo):
    html = page_text(client.get("/en/clinics/", {"city": "seoul", "language": "ja"}))
    assert '<option value="seoul" selected>' in html
    assert '<option value="ja" selected>' in html
    assert "2 clinics" in html
    assert 'href="/ko/clinics/?city=seoul&language=ja"' in html


def test_directory_paginates_and_keeps_filters(client, demo):
    for number in range(25):
        make_clinic(city="daegu", slug=f"extra-{number:02d}")
    first = page_text(client.get("/en/clinics/", {"city": "daegu"}))
    assert len(card_slugs(first)) == 20
    assert "26 clinics" in first
    assert 'href="?city=daegu&page=2"' in first
    second = page_text(client.get("/en/clinics/", {"city": "daegu", "page": 2}))
    assert len(card_slugs(second)) == 6
    assert set(card_slugs(first)).isdisjoint(card_slugs(second))


def test_directory_rejects_an_unknown_filter_value_with_a_translated_error(client, demo):
    html = page_text(client.get("/ko/clinics/", {"city": "atlantis"}))
    with translation.override("ko"):
        message = translation.gettext(
            "Select a valid choice. %(value)s is not one of the available choices."
        ) % {"value": "atlantis"}
    assert message in html
    assert len(card_slugs(html)) == 12


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("한빛", "hanbit-neuroscience-hospital"),
        ("해운대", "busan-haeundae-neuro-centre"),
        ("Ханбит", "hanbit-neuroscience-hospital"),
        ("ПУСАН", "busan-haeundae-neuro-centre"),
        ("بوسان", "busan-haeundae-neuro-centre"),
        ("haeundae", "busan-haeundae-neuro-centre"),
        ("척수강 내 바클로펜", "hanbit-neuroscience-hospital"),
    ],
)
def test_search_finds_clinics_in_every_script(client, demo, query, expected):
    found = set(Clinic.objects.published().search(query).values_list("slug", flat=True))
    assert expected in found
    html = page_text(client.get("/en/clinics/", {"q": query}))
    assert expected in card_slugs(html)
    assert "unlisted-neurology-clinic" not in card_slugs(html)


def test_search_combines_terms_and_filters(client, demo):
    html = page_text(client.get("/en/clinics/", {"q": "seoul rehabilitation", "language": "mn"}))
    assert card_slugs(html) == ["seoul-riverside-rehabilitation-hospital"]
    assert card_slugs(page_text(client.get("/en/clinics/", {"q": "nowhere-at-all"}))) == []


def test_search_ranks_by_trigram_similarity_on_postgresql(demo):
    if connection.vendor != "postgresql":
        pytest.skip("trigram ranking is PostgreSQL only")
    ranked = list(Clinic.objects.published().search("hanbit").ranked_by_search("hanbit"))
    assert ranked[0].slug == "hanbit-neuroscience-hospital"
    assert ranked[0].search_rank > 0.5
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'clinics_clinic_search_trgm'")
        [indexdef] = cursor.fetchone()
    assert "gin_trgm_ops" in indexdef


def test_search_text_rebuild_command_path_covers_bulk_changes(demo):
    Clinic.objects.filter(slug="songdo-joint-hospital").update(name_ko="새이름관절병원", search_text="")
    assert not Clinic.objects.search("새이름").exists()
    clinics_rebuild_search_text()
    assert list(Clinic.objects.search("새이름").values_list("slug", flat=True)) == ["songdo-joint-hospital"]


def test_clinic_page_shows_what_a_patient_needs(client, demo):
    html = page_text(client.get("/en/clinics/hanbit-neuroscience-hospital/"))
    assert "<h1>Hanbit University Neuroscience Hospital</h1>" in html
    assert "한빛대학교 신경과학병원" in html
    assert "This clinic is fictional." in html
    assert "Intrathecal baclofen pump" in html
    assert "₩25,000,000 – ₩40,000,000" in html
    assert "7 days" in html
    assert "Kim Ji-hoon" in html
    assert "Visa invitation letter (C-3-3 / G-1-10 medical visa)" in html
    assert "Halal meals" in html
    assert "SAMPLE-2009-0101" in html
    assert "openstreetmap.org/?mlat=37.579600&mlon=126.999000" in html
    assert 'href="/en/conditions/clonus/"' in html
    assert 'href="/en/conditions/spasticity/"' in html


def test_clinic_page_is_translated(client, demo):
    html = page_text(client.get("/ko/clinics/hanbit-neuroscience-hospital/"))
    clinic = Clinic.objects.get(slug="hanbit-neuroscience-hospital")
    assert f"<h1>{clinic.name_ko}</h1>" in html
    assert clinic.description_ko in html
    with translation.override("ko"):
        assert translation.gettext("Accreditations") in html
        assert translation.gettext("Accreditations") != "Accreditations"


def test_clinic_jsonld_parses_and_describes_the_hospital(client, demo):
    html = page_text(client.get("/en/clinics/hanbit-neuroscience-hospital/"))
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    data = json.loads(block)
    assert data["@type"] == "Hospital"
    assert data["medicalSpecialty"] == ["Neurologic", "Physiotherapy", "Surgical"]
    assert {"@type": "MedicalTherapy", "name": "Intrathecal baclofen pump"} in data["availableService"]
    assert data["address"]["addressCountry"] == "KR"
    assert data["address"]["addressLocality"] == "Seoul"
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 37.5796, "longitude": 126.999}
    languages = [language["alternateName"] for language in data["contactPoint"]["availableLanguage"]]
    assert languages == ["en", "zh-hans", "ru", "ar"]
    assert data["contactPoint"]["telephone"] == "+82234101000"
    clinic_page = page_text(client.get("/en/clinics/bundang-neurology-clinic/"))
    [clinic_block] = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', clinic_page, flags=re.S
    )
    assert json.loads(clinic_block)["@type"] == "MedicalClinic"


def test_ranking_rules_page_is_published_and_translated(client):
    english = page_text(client.get("/en/about/ranking/"))
    assert "No clinic can pay to appear" in english
    korean = page_text(client.get("/ko/about/ranking/"))
    assert "No clinic can pay to appear" not in korean


# --- query counts ---------------------------------------------------------------------------------


def _many_clinics(count, condition):
    treatment = condition.condition_treatments.first().treatment
    specialty = condition.specialties.first()
    for number in range(count):
        clinic = make_clinic(slug=f"load-{number:03d}", treatments=[treatment], specialties=[specialty])
        ClinicLanguage.objects.create(clinic=clinic, language="ru", role="coordinator")
        Accreditation.objects.create(clinic=clinic, kind="jci", valid_until=datetime.date(2099, 1, 1))
        ClinicService.objects.create(clinic=clinic, service="interpreter")


@pytest.mark.parametrize("count", [1, 50])
def test_condition_page_with_clinics_has_constant_queries(client, django_assert_num_queries, count):
    condition = make_condition(symptoms=3, causes=3, treatments=3)
    _many_clinics(count, condition)
    # 6 for the condition page; clinics, matched treatments, matched specialties, languages, photos,
    # accreditations, doctors for the matching list; the conditions offered in the request form (the
    # clinics it offers are the matching list's, not read again)
    with django_assert_num_queries(14):
        html = page_text(client.get(f"/en/conditions/{condition.slug}/", {"language": "ru"}))
    assert len(card_slugs(html)) == min(count, 10)


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"city": "seoul", "language": "ru"},
        {"q": "clinic", "accreditation": "jci", "services": ["interpreter"]},
    ],
)
def test_directory_has_constant_queries(client, django_assert_num_queries, count, params):
    condition = make_condition(treatments=1)
    _many_clinics(count, condition)
    # specialty and treatment choices, count, page, languages, photos, accreditations, specialties;
    # a search also reads the clinics whose names match, ranked
    with django_assert_num_queries(9 if "q" in params else 8):
        html = page_text(client.get("/en/clinics/", params))
    assert len(card_slugs(html)) == min(count, 20)


@pytest.mark.parametrize("count", [1, 50])
def test_clinic_page_has_constant_queries(client, django_assert_num_queries, count):
    condition = make_condition(treatments=1)
    _many_clinics(1, condition)
    clinic = Clinic.objects.get(slug="load-000")
    for number in range(count):
        make_condition(slug=f"treated-{number}").specialties.set(clinic.specialties.all())
    # clinic, languages, photos, accreditations (current + all), specialties, services, treatments,
    # doctors, conditions treated; the conditions offered in the request form (the clinic it offers is
    # the page's own, not read again)
    with django_assert_num_queries(11):
        html = page_text(client.get(clinic.get_absolute_url()))
    assert html.count('href="/en/conditions/treated-') == count
