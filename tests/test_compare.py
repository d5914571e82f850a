"""Clinics compared side by side: the rows a patient weighs, the best value of each marked in words,
what a clinic has not told us said plainly, and a shared link that never shows more than it should."""

import datetime
import re
from html import unescape

import pytest
from django.test import Client
from django.utils import translation

from clinic_portal.templatetags.portal import format_krw_range
from clinics.airports import AIRPORTS, haversine_km, nearest_airport
from clinics.models import Accreditation, ClinicLanguage, ClinicService, ClinicTreatment, Doctor
from tests.factories import make_clinic, make_condition, make_treatment

pytestmark = pytest.mark.django_db

NOT_STATED = "Not stated by the clinic"


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture
def condition():
    return make_condition(slug="clonus", name_en="Clonus", treatments=2)


@pytest.fixture
def trio(condition):
    """Three clinics for clonus that differ in every row: alpha is cheaper to stay at, beta cheaper to
    treat at, gamma says least."""
    botox, therapy = [link.treatment for link in condition.condition_treatments.order_by("position")]
    specialty = condition.specialties.get()
    elsewhere = make_treatment(name_en="Hair transplant")  # not a treatment for clonus
    alpha = make_clinic(
        slug="alpha",
        name_en="Alpha Hospital",
        specialties=[specialty],
        latitude="37.560000",  # by Gimpo airport
        longitude="126.800000",
        foreign_patient_registration_number="2024-SEL-0042",
        registration_verified_on=datetime.date(2026, 5, 4),
    )
    beta = make_clinic(
        slug="beta",
        name_en="Beta Centre",
        city="busan",
        specialties=[specialty],
        latitude="35.163100",  # Haueundae, Busan
        longitude="129.163600",
    )
    gamma = make_clinic(slug="gamma", name_en="Gamma Clinic", specialties=[specialty])
    ClinicTreatment.objects.bulk_create(
        [
            ClinicTreatment(
                clinic=alpha,
                treatment=botox,
                price_min_krw=400_000,
                price_max_krw=1_200_000,
                typical_stay_days=3,
            ),
            ClinicTreatment(clinic=alpha, treatment=therapy),
            ClinicTreatment(clinic=alpha, treatment=elsewhere, price_min_krw=1_000),
            ClinicTreatment(
                clinic=beta,
                treatment=botox,
                price_min_krw=300_000,
                price_max_krw=900_000,
                typical_stay_days=5,
            ),
        ]
    )
    ClinicLanguage.objects.bulk_create(
        [
            ClinicLanguage(clinic=alpha, language="en", role="coordinator"),
            ClinicLanguage(clinic=alpha, language="ru", role="interpreter"),
            ClinicLanguage(clinic=alpha, language="ar", role="doctor"),
            ClinicLanguage(clinic=beta, language="en", role="coordinator"),
            ClinicLanguage(clinic=gamma, language="en", role="coordinator"),
            ClinicLanguage(clinic=gamma, language="ru", role="coordinator"),
        ]
    )
    Accreditation.objects.bulk_create(
        [
            Accreditation(clinic=alpha, kind="jci", valid_until=datetime.date(2020, 3, 31)),
            Accreditation(clinic=alpha, kind="koiha", valid_until=datetime.date(2099, 12, 31)),
        ]
    )
    ClinicService.objects.bulk_create(
        [
            ClinicService(clinic=alpha, service="airport_pickup"),
            ClinicService(clinic=beta, service="halal_meals"),
        ]
    )
    doctor = Doctor.objects.create(clinic=alpha, slug="kim-ji-hoon", name="Kim Ji-hoon", title="Professor")
    doctor.specialties.add(specialty)
    return alpha, beta, gamma


def compare(client, *slugs, condition="clonus", language="en"):
    query = "&".join(f"clinic={slug}" for slug in slugs)
    if condition:
        query += f"&condition={condition}"
    return client.get(f"/{language}/clinics/compare/?{query}")


def text_of(html):
    inline = re.sub(r"</?(a|bdi|span|strong)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def row(html, name):
    """The cells of a row (``data-row``), as text, one per clinic."""
    found = re.search(rf'<tr data-row="{name}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no {name} row"
    return [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def service_row(html, service):
    found = re.search(rf'<tr data-row="service" data-service="{service}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {service}"
    return [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def treatment_row(html, slug):
    found = re.search(rf'<tr data-row="treatment" data-treatment="{slug}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {slug}"
    return [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_compare_shows_the_clinics_as_columns_in_the_order_chosen(client, trio):
    response = compare(client, "gamma", "alpha", "beta")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<th scope="col" data-clinic="([^"]+)"', html) == ["gamma", "alpha", "beta"]
    assert "<h1>Clinics compared for Clonus</h1>" in html


def test_compare_rows_hold_the_treatments_for_the_condition_with_price_and_stay(client, trio, condition):
    botox, therapy = [link.treatment for link in condition.condition_treatments.order_by("position")]

    html = compare(client, "alpha", "beta", "gamma").content.decode()

    assert treatment_row(html, botox.slug) == [
        "Indicative price ₩400,000 – ₩1,200,000 Typical stay 3 days Shortest stay",
        "Indicative price ₩300,000 – ₩900,000 Lowest price Typical stay 5 days",
        NOT_STATED,
    ]
    assert treatment_row(html, therapy.slug) == [
        f"Indicative price {NOT_STATED} Typical stay {NOT_STATED}",
        NOT_STATED,
        NOT_STATED,
    ]
    # Only the condition's treatments are compared.
    assert "Hair transplant" not in html


def test_compare_without_a_condition_compares_every_treatment(client, trio):
    html = compare(client, "alpha", "beta", condition="").content.decode()

    assert "Hair transplant" in html
    assert "<h1>Clinics compared</h1>" in html


def test_compare_prices_are_written_the_way_the_reader_s_language_writes_them(client, trio, condition):
    botox = condition.condition_treatments.order_by("position").first().treatment

    html = compare(client, "alpha", "beta", language="ru").content.decode()

    with translation.override("ru"):
        expected = format_krw_range(300_000, 900_000)
    assert expected.startswith("300\xa0000")
    cell = re.search(rf'data-treatment="{botox.slug}">.*?</td>\s*<td[^>]*>(.*?)</td>', html, re.S).group(1)
    assert expected in unescape(cell)


def test_compare_marks_the_best_value_of_a_row_in_words(client, trio):
    html = compare(client, "alpha", "beta", "gamma").content.decode()

    languages = row(html, "languages")
    assert languages[0].endswith("Most languages")
    assert not any("Most languages" in cell for cell in languages[1:])
    airport = row(html, "airport")
    assert airport[0].startswith("Gimpo International Airport (GMP) about 1 km in a straight line")
    assert airport[0].endswith("Nearest airport")
    assert airport[1].startswith("Gimhae International Airport (PUS)")
    assert "Nearest airport" not in airport[1]
    assert html.count('class="best-value"') == 4  # lowest price, shortest stay, languages, airport


def test_compare_marks_nothing_where_the_clinics_are_equal(client, trio):
    ClinicLanguage.objects.filter(clinic__slug="alpha", language="ar").delete()

    html = compare(client, "alpha", "gamma").content.decode()

    assert "Most languages" not in html


def test_compare_shows_languages_with_who_speaks_them(client, trio):
    html = compare(client, "alpha", "beta").content.decode()

    arabic = translation.get_language_info("ar")["name_local"]
    assert row(html, "languages")[0] == (
        f"English — International coordinator Русский — Interpreter on call {arabic} — Doctor Most languages"
    )


def test_compare_shows_specialties_and_doctors(client, trio, condition):
    specialty = condition.specialties.get()

    html = compare(client, "alpha", "beta").content.decode()

    assert row(html, "specialists") == [f"{specialty.name} Kim Ji-hoon, Professor", specialty.name]
    assert 'href="/en/clinics/alpha/doctors/kim-ji-hoon/"' in html


def test_compare_shows_expired_accreditations_as_expired(client, trio):
    html = compare(client, "alpha", "beta").content.decode()

    assert row(html, "accreditations") == [
        "JCI accreditation — Expired on March 31, 2020 KOIHA national accreditation — valid until Dec. 31, 2099",
        NOT_STATED,
    ]


def test_compare_shows_the_registration_and_says_what_is_missing(client, trio):
    html = compare(client, "alpha", "beta").content.decode()

    assert row(html, "registration") == [
        "Registration number 2024-SEL-0042 Last verified May 4, 2026",
        f"Registration number {NOT_STATED} Last verified {NOT_STATED}",
    ]


def test_compare_has_a_row_for_every_service(client, trio):
    html = compare(client, "alpha", "beta").content.decode()

    services = re.findall(r'<tr data-row="service" data-service="([^"]+)">', html)
    assert services == [
        "interpreter",
        "airport_pickup",
        "visa_letter",
        "accommodation",
        "halal_meals",
        "insurance_billing",
    ]
    assert service_row(html, "airport_pickup") == ["Offered", NOT_STATED]
    assert service_row(html, "halal_meals") == [NOT_STATED, "Offered"]
    assert service_row(html, "visa_letter") == [NOT_STATED, NOT_STATED]


def test_compare_says_so_when_a_clinic_has_no_location(client, trio):
    html = compare(client, "alpha", "gamma").content.decode()

    assert row(html, "airport")[1] == (
        "Not stated by the clinic: without the clinic's location we cannot tell the distance."
    )
    assert row(html, "city") == ["Seoul", "Seoul"]


def test_compare_is_kept_out_of_search_engines_and_the_sitemap(client, trio):
    response = compare(client, "alpha", "beta")

    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in response.content.decode()
    assert 'rel="canonical"' not in response.content.decode()
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/clinics/alpha/" in sitemap
    assert "compare" not in sitemap


def test_compare_links_to_a_request_for_these_clinics_which_preselects_them(client, trio):
    html = compare(client, "alpha", "beta", "gamma").content.decode()
    link = re.search(r'<a class="button" href="([^"]+)">Request a consultation with these clinics</a>', html)

    assert (
        unescape(link.group(1)) == "/en/inquiries/new/?clinic=alpha&clinic=beta&clinic=gamma&condition=clonus"
    )
    form = client.get(unescape(link.group(1))).content.decode()
    assert sorted(re.findall(r'name="preferred_clinics" value="([^"]+)"[^>]*checked', form)) == [
        "alpha",
        "beta",
        "gamma",
    ]


def test_compare_shows_the_request_link_only_as_the_inquiries_app_provides_it(client, trio, settings):
    settings.COMPARISON_PAGE_PANELS = []

    html = compare(client, "alpha", "beta").content.decode()

    assert "compare-table" in html
    assert "/inquiries/new/" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_compare_with_one_clinic_explains_how_to_choose(client, trio):
    response = compare(client, "alpha")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert "How to choose clinics" in html
    assert "You chose one clinic so far: <bdi>Alpha Hospital</bdi>." in html
    assert 'href="/en/clinics/"' in html
    assert 'href="/en/conditions/clonus/#clinics"' in html
    assert "compare-table" not in html


def test_compare_with_no_clinic_explains_how_to_choose(client, db):
    response = Client().get("/ar/clinics/compare/")

    assert response.status_code == 200
    assert tr("ar", "How to choose clinics") in response.content.decode()
    assert 'href="/ar/clinics/"' in response.content.decode()


def test_compare_refuses_more_than_three_clinics_and_lists_them_to_untick(client, trio):
    fourth = make_clinic(slug="delta", name_en="Delta Hospital")

    response = compare(client, "alpha", "beta", "gamma", fourth.slug)

    html = response.content.decode()
    assert response.status_code == 400
    assert "You chose 4 clinics. Compare up to three at a time" in unescape(html)
    assert re.findall(r'<input type="checkbox" name="clinic" value="([^"]+)" checked>', html) == [
        "alpha",
        "beta",
        "gamma",
        "delta",
    ]
    assert '<input type="hidden" name="condition" value="clonus">' in html
    assert "compare-table" not in html


def test_compare_refuses_a_link_naming_very_many_clinics_without_looking_them_up(
    client, trio, django_assert_max_num_queries
):
    slugs = [f"clinic-{number}" for number in range(25)]

    with django_assert_max_num_queries(0):
        response = compare(client, *slugs, condition="")

    assert response.status_code == 400
    assert "You chose 25 clinics." in unescape(response.content.decode())


def test_compare_leaves_out_unknown_and_unpublished_clinics_and_says_so(client, trio):
    make_clinic(slug="hidden", name_en="Hidden Hospital", is_published=False)

    response = compare(client, "alpha", "no-such-clinic", "beta", "hidden")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<th scope="col" data-clinic="([^"]+)"', html) == ["alpha", "beta"]
    assert "Hidden Hospital" not in html
    assert "2 clinics in this link are not in our directory (any more) and are left out." in html


def test_compare_of_an_unknown_condition_compares_every_treatment_and_says_so(client, trio):
    html = compare(client, "alpha", "beta", condition="no-such-condition").content.decode()

    assert "Hair transplant" in html
    assert "The condition in this link is not on our site (any more)" in html


def test_compare_reads_the_same_number_of_queries_for_two_and_three_clinics(
    client, trio, django_assert_num_queries
):
    # The condition, its treatments and specialties; the clinics, their languages, services,
    # treatments, specialties, doctors and the doctors' specialties, accreditations.
    with django_assert_num_queries(11):
        assert compare(client, "alpha", "beta").status_code == 200
    with django_assert_num_queries(11):
        assert compare(client, "alpha", "beta", "gamma").status_code == 200


def test_compare_is_served_from_the_page_cache_per_choice_of_clinics(
    settings, trio, django_assert_num_queries
):
    from django.core.cache import caches

    settings.PAGE_CACHE = True
    caches["pages"].clear()
    first = compare(Client(), "alpha", "beta")
    with django_assert_num_queries(0):
        again = compare(Client(), "alpha", "beta")
    other = compare(Client(), "alpha", "gamma")
    caches["pages"].clear()

    assert again.content == first.content
    assert again["X-Robots-Tag"] == "noindex"
    assert "Gamma Clinic" in other.content.decode() and "Gamma Clinic" not in again.content.decode()


def test_directory_and_condition_page_let_the_patient_tick_clinics_to_compare(client, trio, condition):
    directory = client.get("/en/clinics/").content.decode()
    condition_page = client.get("/en/conditions/clonus/").content.decode()

    for html in (directory, condition_page):
        form = re.search(
            r'<form class="compare-picker" method="get" action="/en/clinics/compare/">(.*?)</form>',
            html,
            re.S,
        )
        assert form, "no comparison form"
        ticks = re.findall(
            r'<input type="checkbox" name="clinic" value="([^"]+)" aria-label="Compare ([^"]+)">',
            form.group(1),
        )
        assert ("alpha", "Alpha Hospital") in ticks
        assert "Compare the ticked clinics" in form.group(1)
    assert '<input type="hidden" name="condition" value="clonus">' in condition_page


def test_home_page_links_its_promise_to_compare_hospitals(client, db):
    html = client.get("/en/").content.decode()

    assert '<a href="/en/clinics/compare/">Compare clinics</a>' in html


def test_nearest_airport_is_measured_by_great_circle_distance():
    seoul_to_busan = haversine_km(37.5665, 126.9780, 35.1796, 129.0756)
    jeju_city = nearest_airport(33.4996, 126.5312)

    assert seoul_to_busan == pytest.approx(325, abs=3)
    assert jeju_city.airport.code == "CJU"
    assert jeju_city.rounded_kilometres == 4
    assert nearest_airport(None, 126.5) is None
    assert [airport.code for airport in AIRPORTS] == ["ICN", "GMP", "PUS", "CJU", "TAE", "CJJ", "MWX", "YNY"]


def test_airport_names_are_translated():
    gimpo = next(airport for airport in AIRPORTS if airport.code == "GMP")

    with translation.override("ar"):
        assert str(gimpo.name) == translation.gettext("Gimpo International Airport")
