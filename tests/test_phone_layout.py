"""The public pages on a phone, in a real Chromium: the way to the clinics and the request form on a long
condition page, no layout shift from the request bar, no sideways scroll, results before filters."""

import pytest
from django.conf import settings

from tests.support.browser import browser_marks

pytestmark = browser_marks()

PHONE = {"width": 390, "height": 844}
CLONUS = "/en/conditions/clonus/"
CLINIC = "/en/clinics/hanbit-neuroscience-hospital/"

# Sums the layout shifts of the page (those not caused by input), from the start of its loading.
RECORD_LAYOUT_SHIFTS = """
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def top_of(page, selector):
    return page.locator(selector).first.evaluate("element => element.getBoundingClientRect().top")


def test_contents_of_the_clonus_page_lead_to_the_clinics_and_the_form(phone, demo_site, console_errors):
    phone.goto(f"{demo_site.url}{CLONUS}")
    contents = phone.locator("nav.toc")

    contents.locator('a[href="#clinics"]').click()
    phone.wait_for_function("location.hash === '#clinics'")
    assert abs(top_of(phone, "#clinics")) < 2
    assert phone.locator("#clinics-heading").is_visible()

    phone.evaluate("window.scrollTo(0, 0)")
    contents.locator('a[href="#consultation"]').click()
    phone.wait_for_function("location.hash === '#consultation'")
    assert abs(top_of(phone, "#consultation")) < 2
    assert phone.locator("#consultation [name=full_name]").is_visible()
    assert contents.locator("li").all_inner_texts()[-3:] == [
        "Clinics in Korea",
        "Request a consultation",
        "Medical review",
    ]
    assert console_errors == []


@pytest.mark.parametrize("path", [CLONUS, CLINIC])
def test_request_bar_stays_at_hand_and_leads_to_the_form(phone, demo_site, path):
    phone.goto(f"{demo_site.url}{path}")
    bar = phone.locator(".request-bar")

    # At the top of the page: stuck to the bottom of the screen.
    assert bar.is_visible()
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] == pytest.approx(PHONE["height"], abs=1)
    # Half-way down the page, above the form: still there.
    form_top = phone.evaluate("document.getElementById('consultation').getBoundingClientRect().top + scrollY")
    phone.evaluate(f"window.scrollTo(0, {form_top / 2})")
    assert bar.is_visible()
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] == pytest.approx(PHONE["height"], abs=1)

    bar.locator("a").click()
    phone.wait_for_function("location.hash === '#consultation'")
    assert abs(top_of(phone, "#consultation")) < 2
    # The form's fields are not hidden behind the bar: it has scrolled away above the form.
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] <= 1
    phone.locator("#consultation [name=full_name]").fill("Ayşe Yılmaz")


def test_request_bar_is_not_shown_on_a_wide_screen(page, demo_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo_site.url}{CLONUS}")

    assert not page.locator(".request-bar").is_visible()


@pytest.mark.parametrize("path", [CLONUS, CLINIC])
def test_request_bar_causes_no_layout_shift(phone, demo_site, path):
    phone.add_init_script(RECORD_LAYOUT_SHIFTS)
    phone.goto(f"{demo_site.url}{path}", wait_until="load")
    phone.evaluate("document.fonts.ready.then(() => true)")
    for y in (0, 3000, 6000, 9000, 0):
        phone.evaluate(f"window.scrollTo(0, {y})")
        phone.wait_for_timeout(100)

    shift = phone.evaluate("window.__layoutShift")

    assert shift < 0.01


def test_clinic_page_in_russian_does_not_scroll_sideways(phone, demo_site):
    phone.goto(f"{demo_site.url}/ru/clinics/hanbit-neuroscience-hospital/")

    width, viewport = phone.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )

    assert width <= viewport
    # The price table reflows: one block per treatment, each value after its column's name.
    price = phone.locator(".treatments-table tbody tr").first.locator("td").first
    assert price.get_attribute("data-label") == "Ориентировочная цена (KRW)"
    assert price.bounding_box()["x"] + price.bounding_box()["width"] <= viewport


def test_clinic_pages_do_not_scroll_sideways_at_360_px_in_any_language(page, demo_site):
    from django.db.models import Count

    from clinics.models import Clinic

    # The clinics with the longest price tables.
    widest = (
        Clinic.objects.published()
        .annotate(treatment_count=Count("clinic_treatments"))
        .order_by("-treatment_count", "slug")
        .values_list("slug", flat=True)[:3]
    )
    page.set_viewport_size({"width": 360, "height": 740})
    overflowing = []
    for slug in widest:
        for code, _name in settings.LANGUAGES:
            page.goto(f"{demo_site.url}/{code}/clinics/{slug}/")
            width, viewport = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if width > viewport:
                overflowing.append(f"/{code}/clinics/{slug}/: {width} > {viewport}")

    assert overflowing == []


def test_directory_shows_results_first_and_filters_open_from_one_control(phone, demo_site, console_errors):
    from clinics.models import Clinic

    phone.goto(f"{demo_site.url}/en/clinics/")
    filters = phone.locator("details.filters")

    assert top_of(phone, ".clinic-list > li") < PHONE["height"]
    assert filters.get_attribute("open") is None
    assert not phone.locator(".filter-form").is_visible()

    filters.locator("summary").click()
    assert phone.locator(".filter-form").is_visible()
    phone.select_option(".filter-form select[name=city]", "seoul")
    phone.locator(".filter-form button[type=submit]").click()
    phone.wait_for_url("**city=seoul**")

    in_seoul = set(Clinic.objects.published().in_city("seoul").values_list("slug", flat=True))
    shown = set(phone.locator(".clinic-list > li").evaluate_all("items => items.map(i => i.dataset.clinic)"))
    assert shown == in_seoul
    assert len(in_seoul) > 0
    # Results first again, the filters closed, saying how many apply.
    assert top_of(phone, ".clinic-list > li") < PHONE["height"]
    assert filters.get_attribute("open") is None
    assert filters.locator("summary").inner_text().split() == ["Filters", "1", "applied"]
    assert console_errors == []


def test_directory_filters_stand_beside_the_results_on_a_wide_screen(page, demo_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo_site.url}/en/clinics/")

    assert page.locator(".filter-form select[name=city]").is_visible()
    assert not page.locator("details.filters > summary").is_visible()
