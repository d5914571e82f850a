"""Search in the patient's words, in a real Chromium: a misspelt search offers "Did you mean …?"."""

from tests.support.browser import browser_marks

pytestmark = browser_marks()


def test_misspelt_condition_search_offers_the_correction_and_follows_it(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}/en/conditions/")
    page.fill("input[name=q]", "clonis")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/conditions/?q=clonis")
    assert page.locator(".result-count").inner_text() == "No condition matches “clonis”."
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.inner_text() == "clonus"
    assert page.locator(".near-misses [data-condition]").all_inner_texts()[0].startswith("Clonus")
    suggestion.click()
    page.wait_for_url("**/en/conditions/?q=clonus")
    assert page.locator("[data-condition]").count() == 1
    assert page.locator(".did-you-mean").count() == 0
    page.locator("[data-condition=clonus] a").click()
    page.wait_for_url("**/en/conditions/clonus/")
    assert page.locator("h1").inner_text() == "Clonus"
    assert console_errors == []


def test_misspelt_brand_in_the_clinic_directory_keeps_the_filters(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}/ru/clinics/?city=seoul&q=%D0%B1%D0%BE%D1%82%D0%BE%D0%BA%D1%81%D1%81")
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.inner_text() == "ботокс"
    assert page.locator(".near-misses [data-clinic]").count() == 2
    suggestion.click()
    page.wait_for_url("**/ru/clinics/?q=*&city=seoul")
    slugs = {page.locator("[data-clinic]").nth(i).get_attribute("data-clinic") for i in range(2)}
    assert slugs == {"hanbit-neuroscience-hospital", "gangnam-movement-clinic"}
    assert page.locator("[data-clinic]").count() == 2
    assert page.locator(".did-you-mean").count() == 0
    assert console_errors == []
