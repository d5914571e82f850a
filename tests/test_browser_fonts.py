"""Which web fonts a page downloads, in a real Chromium: on a wide screen the faces of its own language's
scripts only (never an Arabic or Cyrillic face for one word in the language switcher); on a phone none."""

import re

import pytest

from tests.support.browser import browser_marks

pytestmark = browser_marks()

CLONUS = "/{language}/conditions/clonus/"
FACE = re.compile(r"/noto-sans-(arabic-arabic|latin-ext|latin|cyrillic|vietnamese)-(\d+)-normal\b")
LATIN = {"latin 400", "latin 700"}

# The faces each page's text needs. Digits, spaces and punctuation are in the Latin subset, so every
# page shows some Latin text; Korean letters are in the reader's system fonts.
EXPECTED = {
    "en": LATIN,
    "ko": LATIN,
    "ru": LATIN | {"cyrillic 400", "cyrillic 700"},
    "ar": LATIN | {"arabic-arabic 400", "arabic-arabic 700"},
    "vi": LATIN | {"vietnamese 400", "vietnamese 700"},
}
# The won sign of indicative prices (₩, U+20A9) is in the Latin Extended subset: a page may need it
# wherever a clinic card with a price is drawn, in any language.
WON_SIGN = {"latin-ext 400", "latin-ext 700"}


def assert_own_scripts_only(faces, language):
    assert EXPECTED[language] <= faces <= EXPECTED[language] | WON_SIGN


def record_faces(page):
    faces = set()

    def requested(request):
        match = FACE.search(request.url)
        if match:
            faces.add(f"{match.group(1)} {match.group(2)}")

    page.on("request", requested)
    return faces


def open_quietly(page, url):
    page.goto(url)
    page.evaluate("document.fonts.ready.then(() => null)")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_a_wide_page_downloads_the_faces_of_its_own_scripts_only(page, demo_site, language):
    page.set_viewport_size({"width": 1280, "height": 900})
    faces = record_faces(page)

    open_quietly(page, demo_site.url + CLONUS.format(language=language))
    assert_own_scripts_only(faces, language)

    # The other languages' names in the open switcher are shown without another download.
    page.locator("details.language-switcher summary").click()
    page.locator('details.language-switcher a[hreflang="ar"]').wait_for()
    page.evaluate("document.fonts.ready.then(() => null)")
    page.wait_for_load_state("networkidle")
    assert_own_scripts_only(faces, language)


def test_the_page_text_is_in_the_web_font_and_the_other_names_in_the_system_font(page, demo_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_quietly(page, demo_site.url + CLONUS.format(language="en"))
    family = "element => getComputedStyle(element).fontFamily"
    assert page.locator("h1").evaluate(family).startswith('"Noto Sans"')
    page.locator("details.language-switcher summary").click()
    assert "Noto" not in page.locator('details.language-switcher a[hreflang="ar"]').evaluate(family)
    assert (
        page.locator('details.language-switcher a[hreflang="en"]').evaluate(family).startswith('"Noto Sans"')
    )


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_a_phone_shows_the_system_fonts_and_downloads_none(browser, demo_site, language):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    faces = record_faces(page)
    try:
        open_quietly(page, demo_site.url + CLONUS.format(language=language))
        assert faces == set()
        assert 'Noto Sans"' not in page.locator("h1").evaluate(
            "element => getComputedStyle(element).fontFamily"
        )
    finally:
        context.close()
