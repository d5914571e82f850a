"""The clinic directory and its search at any number of clinics: a fixed number of short queries, a
count that stops at a cap and says so, pages that stay whole, names sorted off an index."""

import re
from html import unescape

import pytest
from django.db import connection
from django.utils import translation

import clinics.models
import clinics.views
from clinic_portal.templatetags import portal
from clinics.models import Clinic, ClinicLanguage
from tests.factories import make_clinic, make_treatment
from tests.support.browser import browser_marks

pytestmark = pytest.mark.django_db


def page_text(response):
    assert response.status_code == 200
    return unescape(response.content.decode())


def card_slugs(html):
    return re.findall(r'data-clinic="([^"]+)"', html)


def heading(html):
    return re.search(r'<h2 id="results-heading"[^>]*>(.*?)</h2>', html, flags=re.S).group(1).strip()


def pages_indicator(html):
    found = re.search(r'<nav class="pagination".*?<span>(.*?)</span>', html, flags=re.S)
    return found.group(1) if found else None


def next_link(html):
    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    return found.group(1) if found else None


def walk_pages(client, path, params):
    """Every page of a list, following its "Next" links: [(slugs, heading, page indicator)]."""
    pages = []
    html = page_text(client.get(path, params))
    while True:
        pages.append((card_slugs(html), heading(html), pages_indicator(html)))
        link = next_link(html)
        if link is None:
            return pages
        assert len(pages) < 50, "the Next links never end"
        html = page_text(client.get(path + link))


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 clinics, counted up to 4: the capped count shows with a handful of clinics."""
    monkeypatch.setattr(clinics.views, "CLINICS_PER_PAGE", 2)
    monkeypatch.setattr(clinics.views, "CLINICS_COUNTED", 4)


# --- query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 40])
@pytest.mark.parametrize(
    ("params", "queries"),
    [
        # specialty and treatment choices, count, page, languages, photos, accreditations, specialties
        ({}, 8),
        ({"page": "2"}, 8),
        ({"city": "seoul", "language": "ru"}, 8),
        # a search also reads the clinics whose names hold it, ranked
        ({"q": "clinic"}, 9),
        ({"q": "clinic", "page": "2"}, 9),
        # … and the others found, by name
        ({"q": "spasticity"}, 10),
    ],
)
def test_directory_and_search_queries_do_not_grow_with_the_clinics(
    client, django_assert_num_queries, monkeypatch, count, params, queries
):
    monkeypatch.setattr(clinics.views, "CLINICS_COUNTED", 10)
    treatment = make_treatment(name_en="Spasticity management")
    for number in range(count):
        clinic = make_clinic(
            slug=f"load-{number:03d}", name_en=f"Clinic {number:03d}", treatments=[treatment]
        )
        ClinicLanguage.objects.create(clinic=clinic, language="ru", role="coordinator")
    with django_assert_num_queries(queries):
        html = page_text(client.get("/en/clinics/", params))
    # A page past the end shows the last one.
    assert len(card_slugs(html)) == min(count, 20)


# --- a search most clinics match -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_window_factor", "last_window"),
    [
        (2, 4000),  # as configured: the first window holds the page
        (1, 300),  # windows of 3, then 30 clinics
        (1, 5),  # past the last window: the trigram index finds them
    ],
)
def test_a_search_found_past_the_count_pages_through_its_matches_by_name(
    client, monkeypatch, first_window_factor, last_window
):
    monkeypatch.setattr(clinics.views, "CLINICS_PER_PAGE", 3)
    monkeypatch.setattr(clinics.views, "CLINICS_COUNTED", 4)
    monkeypatch.setattr(clinics.models, "FIRST_NAME_WINDOW_FACTOR", first_window_factor)
    monkeypatch.setattr(clinics.models, "LAST_NAME_WINDOW", last_window)
    spasticity = make_treatment(name_en="Spasticity management")
    speech = make_treatment(name_en="Speech therapy")
    # Few matches among the first names, every clinic from the twentieth on.
    for number in range(30):
        offers = spasticity if number % 4 == 0 or number >= 20 else speech
        make_clinic(slug=f"c-{number:02d}", name_en=f"Centre {number:02d}", treatments=[offers])
    matching = [f"c-{number:02d}" for number in range(30) if number % 4 == 0 or number >= 20]

    pages = walk_pages(client, "/en/clinics/", {"q": "spasticity"})

    assert [slug for slugs, _heading, _indicator in pages for slug in slugs] == matching
    assert all(len(slugs) == 3 for slugs, _heading, _indicator in pages[:-1])


def test_a_search_can_leave_the_trigram_index_alone(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans only")
    make_clinic(slug="alpha", name_en="Alpha Hospital")
    for use_index in (True, False):
        query = Clinic.objects.published().search("rehabilitation", use_index=use_index).values("pk")
        with connection.cursor() as cursor:
            # With reading the table priced out, the planner takes any index that answers the terms.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = query.explain()
        assert ("clinics_clinic_search_trgm" in plan) is use_index, plan


# --- order by name, in the reader's language ------------------------------------------------------


@pytest.fixture
def named_clinics(db):
    make_clinic(slug="alpha", name_en="Alpha Hospital", name_ko="하나 병원", name_ru="Яблоко")
    make_clinic(slug="beta", name_en="Beta Clinic")  # English only: sorted by its English name
    make_clinic(slug="gamma", name_en="Gamma Centre", name_ko="가나 센터", name_ru="Арбуз")
    make_clinic(slug="delta", name_en="Delta Clinic", name_ko="", name_ru="")


def test_directory_sorts_by_the_name_in_the_readers_language_or_in_english(client, named_clinics):
    assert card_slugs(page_text(client.get("/en/clinics/"))) == ["alpha", "beta", "delta", "gamma"]
    assert card_slugs(page_text(client.get("/ko/clinics/"))) == ["beta", "delta", "gamma", "alpha"]
    assert card_slugs(page_text(client.get("/ru/clinics/"))) == ["beta", "delta", "gamma", "alpha"]


def test_name_order_is_read_off_the_language_sort_index_on_postgresql(named_clinics):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plans only")
    with translation.override("ko"):
        query = Clinic.objects.published().order_by_name()[:20]
        with connection.cursor() as cursor:
            # With sorting and scanning the table priced out, only an index matching the ORDER BY
            # expressions exactly is left to read the first rows in order.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = query.explain()
    assert "clinic_name_sort_ko" in plan
    assert "Sort" not in plan


# --- capped count and pages -----------------------------------------------------------------------


def test_a_long_list_says_more_than_the_cap_and_every_page_stays_reachable(client, small_pages):
    for number in range(7):
        make_clinic(slug=f"clinic-{number}", name_en=f"Clinic {number}")
    pages = walk_pages(client, "/en/clinics/", {})
    assert [slugs for slugs, _heading, _pages in pages] == [
        ["clinic-0", "clinic-1"],
        ["clinic-2", "clinic-3"],
        ["clinic-4", "clinic-5"],
        ["clinic-6"],
    ]
    assert [(heading, indicator) for _slugs, heading, indicator in pages] == [
        # Counted up to 4: more than that, the last page unknown yet.
        ("More than 4 clinics", "Page 1"),
        ("More than 4 clinics", "Page 2"),
        # Past the cap the count goes one past the page asked for: page 3 has a next page,
        ("More than 4 clinics", "Page 3"),
        # and page 4 found the end.
        ("7 clinics", "Page 4 of 4"),
    ]
    # A page past the end shows the last one, as before.
    html = page_text(client.get("/en/clinics/", {"page": 99}))
    assert card_slugs(html) == ["clinic-6"]
    assert heading(html) == "7 clinics"


def test_a_list_within_the_cap_is_counted_exactly(client, small_pages):
    for number in range(3):
        make_clinic(slug=f"clinic-{number}", name_en=f"Clinic {number}")
    html = page_text(client.get("/en/clinics/"))
    assert heading(html) == "3 clinics"
    assert pages_indicator(html) == "Page 1 of 2"


def test_the_capped_count_is_written_in_the_readers_language_with_its_plural(client):
    Clinic.objects.bulk_create(
        Clinic(
            slug=f"bulk-{number:04d}",
            name_en=f"Bulk {number:04d}",
            kind="clinic",
            city="seoul",
            is_published=True,
        )
        for number in range(clinics.views.CLINICS_COUNTED + 1)
    )
    html = page_text(client.get("/en/clinics/"))
    assert heading(html) == "More than 1,000 clinics"
    assert pages_indicator(html) == "Page 1"
    html = page_text(client.get("/ru/clinics/"))
    with translation.override("ru"):
        expected = translation.ngettext(
            "More than %(number)s clinic", "More than %(number)s clinics", 1000
        ) % {"number": portal.number(1000)}
        page = translation.gettext("Page %(number)s") % {"number": 1}
    assert "More than" not in expected  # translated
    assert heading(html) == expected
    assert pages_indicator(html) == page


# --- search results across pages ------------------------------------------------------------------


@pytest.fixture
def rehabilitation_clinics(db):
    """Four clinics named for rehabilitation that offer it, three that offer it only, one named for it
    only."""
    therapy = make_treatment(name_en="Rehabilitation therapy")
    for slug, name in [
        ("rehab-d", "Rehabilitation Delta"),
        ("rehab-a", "Rehabilitation Alpha"),
        ("rehab-c", "Rehabilitation Charlie"),
        ("rehab-b", "Rehabilitation Bravo"),
    ]:
        make_clinic(slug=slug, name_en=name, treatments=[therapy])
    for slug, name in [
        ("offers-z", "Zenith Clinic"),
        ("offers-a", "Aurora Clinic"),
        ("offers-m", "Meadow Clinic"),
    ]:
        make_clinic(slug=slug, name_en=name, treatments=[therapy])
    make_clinic(slug="rehab-free", name_en="Rehabilitation-free Clinic Elsewhere")


def test_search_pages_list_name_matches_first_then_the_others_each_once(
    client, small_pages, rehabilitation_clinics
):
    pages = walk_pages(client, "/en/clinics/", {"q": "rehabilitation therapy"})
    listed = [slug for slugs, _heading, _pages in pages for slug in slugs]
    # Names hold "rehabilitation" but not "therapy": no name holds every term, all are by name.
    assert listed == ["offers-a", "offers-m", "rehab-a", "rehab-b", "rehab-c", "rehab-d", "offers-z"]

    pages = walk_pages(client, "/en/clinics/", {"q": "rehabilitation"})
    listed = [slug for slugs, _heading, _pages in pages for slug in slugs]
    assert [len(slugs) for slugs, _heading, _pages in pages] == [2, 2, 2, 2]
    # Equally close (each name holds the whole word): by name.
    assert listed[:5] == ["rehab-a", "rehab-b", "rehab-c", "rehab-d", "rehab-free"]
    assert listed[5:] == ["offers-a", "offers-m", "offers-z"]
    assert pages[-1][1:] == ("8 clinics", "Page 4 of 4")


def test_only_the_first_name_matches_are_ranked_the_rest_follow_by_name(
    client, small_pages, monkeypatch, rehabilitation_clinics
):
    monkeypatch.setattr(clinics.models, "RANKED_NAME_MATCHES", 2)
    pages = walk_pages(client, "/en/clinics/", {"q": "rehabilitation"})
    listed = [slug for slugs, _heading, _pages in pages for slug in slugs]
    # The first two by name are ranked; the other name matches take their place by name.
    assert listed[:2] == ["rehab-a", "rehab-b"]
    assert listed[2:] == ["offers-a", "offers-m", "rehab-c", "rehab-d", "rehab-free", "offers-z"]
    assert len(set(listed)) == 8


# --- in Chromium ----------------------------------------------------------------------------------


def in_chromium(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_chromium
def test_paging_through_a_capped_directory_in_chromium(page, demo_site, monkeypatch, console_errors):
    monkeypatch.setattr(clinics.views, "CLINICS_PER_PAGE", 5)
    monkeypatch.setattr(clinics.views, "CLINICS_COUNTED", 8)
    page.goto(f"{demo_site.url}/en/clinics/")

    def shown():
        cards = page.locator("[data-clinic]")
        return [cards.nth(i).get_attribute("data-clinic") for i in range(cards.count())]

    seen = []
    for expected_heading, expected_pages in [
        ("More than 8 clinics", "Page 1"),
        ("More than 8 clinics", "Page 2"),
        ("12 clinics", "Page 3 of 3"),
    ]:
        assert page.locator(".result-count").inner_text() == expected_heading
        assert page.locator(".pagination span").inner_text() == expected_pages
        seen.append(shown())
        if expected_pages != "Page 3 of 3":
            page.locator(".pagination a[rel=next]").click()
            page.wait_for_url(f"**/en/clinics/?page={len(seen) + 1}")
    assert [len(slugs) for slugs in seen] == [5, 5, 2]
    assert len({slug for slugs in seen for slug in slugs}) == 12
    assert page.locator(".pagination a[rel=next]").count() == 0
    page.locator(".pagination a[rel=prev]").click()
    page.wait_for_url("**/en/clinics/?page=2")
    assert shown() == seen[1]
    assert console_errors == []
