"""Comparing clinics in a real Chromium: ticked on a condition page in Arabic, compared side by side,
read on a phone, then asked about in one request; and too many ticked in the directory, refused."""

import re

from django.utils import translation

from inquiries.models import Inquiry
from tests.support.browser import browser_marks
from tests.test_browser_forms import fill_request, unexpected

pytestmark = browser_marks()

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


def column_slugs(page):
    return page.locator(".compare-table thead th[data-clinic]").evaluate_all(
        "cells => cells.map(cell => cell.dataset.clinic)"
    )


def test_patient_compares_three_clinics_for_clonus_in_arabic_and_asks_them_all(
    page, demo_site, console_errors
):
    page.set_viewport_size(WIDE)
    page.goto(f"{demo_site.url}/ar/conditions/clonus/")
    cards = page.locator("#clinics .clinic-card")
    chosen = cards.evaluate_all("cards => cards.slice(0, 3).map(card => card.dataset.clinic)")
    for slug in chosen:
        page.locator(f'#clinics input[name=clinic][value="{slug}"]').check()
    page.locator("#clinics .compare-bar button[type=submit]").click()

    page.wait_for_url(re.compile(r".*/ar/clinics/compare/\?.*"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert column_slugs(page) == chosen
    assert page.locator("meta[name=robots]").get_attribute("content") == "noindex"
    assert page.locator("h1").inner_text() != ""
    # The clinics' names head the columns, right to left: the first chosen is the rightmost.
    heads = page.locator(".compare-table thead th[data-clinic]")
    assert heads.nth(0).bounding_box()["x"] > heads.nth(2).bounding_box()["x"]
    assert page.locator(".compare-table tbody th[scope=row]").first.is_visible()

    # On a phone: one card per clinic, one under the other, nothing to scroll sideways.
    page.set_viewport_size(PHONE)
    width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= viewport
    boxes = [heads.nth(index).bounding_box() for index in range(3)]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    assert all(box["width"] > viewport * 0.8 for box in boxes)
    assert not page.locator(".compare-table tbody th[scope=row]").first.is_visible()
    first_cell = page.locator('.compare-table tr[data-row="languages"] td').first
    label = first_cell.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert tr("ar", "Languages") in label
    assert boxes[0]["y"] < first_cell.bounding_box()["y"] < boxes[1]["y"]  # in the first clinic's card

    page.set_viewport_size(WIDE)
    page.get_by_role("link", name=tr("ar", "Request a consultation with these clinics")).click()
    page.wait_for_url(re.compile(r".*/ar/inquiries/new/\?.*"))
    form = page.locator("form.inquiry-form")
    ticked = form.locator("[name=preferred_clinics]:checked").evaluate_all(
        "boxes => boxes.map(box => box.value)"
    )
    assert sorted(ticked) == sorted(chosen)
    assert form.locator("[name=condition]").input_value() == "clonus"

    fill_request(form, email="compare@example.com", phone="8 912 345 67 89", consent=True)
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/ar/inquiries/thanks/CP-.*"))
    inquiry = Inquiry.objects.get()
    assert sorted(clinic.slug for clinic in inquiry.preferred_clinics.all()) == sorted(chosen)
    assert inquiry.condition.slug == "clonus"
    assert unexpected(console_errors) == []


def test_four_clinics_ticked_in_the_directory_are_refused_until_one_is_unticked(
    page, demo_site, console_errors
):
    page.set_viewport_size(WIDE)
    page.goto(f"{demo_site.url}/ru/clinics/")
    chosen = page.locator(".clinic-list .clinic-card").evaluate_all(
        "cards => cards.slice(0, 4).map(card => card.dataset.clinic)"
    )
    for slug in chosen:
        page.locator(f'input[name=clinic][value="{slug}"]').check()
    page.locator(".compare-bar button[type=submit]").click()

    summary = page.locator("#form-errors")
    summary.wait_for()
    with translation.override("ru"):
        expected = translation.ngettext(
            "You chose %(count)s clinic. Compare up to three at a time: untick the ones you need least "
            "and press “Compare” again.",
            "You chose %(count)s clinics. Compare up to three at a time: untick the ones you need least "
            "and press “Compare” again.",
            4,
        ) % {"count": 4}
    assert summary.inner_text().strip() == expected
    assert page.locator(".compare-table").count() == 0
    boxes = page.locator(".compare-form input[name=clinic]")
    assert boxes.evaluate_all("boxes => boxes.map(box => box.value)") == chosen

    boxes.nth(1).uncheck()
    page.locator(".compare-form button[type=submit]").click()
    page.locator(".compare-table").wait_for()
    assert column_slugs(page) == [chosen[0], chosen[2], chosen[3]]
    assert unexpected(console_errors) == []


def test_on_a_phone_the_compare_button_stays_in_view_once_a_clinic_is_ticked(page, demo_site):
    page.set_viewport_size(PHONE)
    page.goto(f"{demo_site.url}/en/conditions/clonus/")
    button = page.locator("#clinics .compare-bar button[type=submit]")
    first_pick = page.locator("#clinics input[name=clinic]").first
    first_pick.scroll_into_view_if_needed()
    assert not button.is_visible() or not in_viewport(page, button)  # at the end of a long list

    first_pick.check()

    assert in_viewport(page, button)
    # Not under the bar to the request form, which sticks to the bottom of the screen too.
    bar = page.locator(".request-bar")
    if bar.is_visible():
        assert button.bounding_box()["y"] + button.bounding_box()["height"] <= bar.bounding_box()["y"] + 1
    button.click()
    page.wait_for_url(re.compile(r".*/en/clinics/compare/\?.*"))
    assert page.locator("h1").inner_text() != ""


def in_viewport(page, locator):
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height
