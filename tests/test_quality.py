"""Quality bars from outside judges: axe-core (WCAG 2.1 AA, target size and best practice) in Chromium,
the Nu HTML Checker, and the main pages in every language at phone and desktop widths with nothing cut
off; and what Lighthouse asked for (compressed pages, fonts preloaded).

Lighthouse itself is too slow for the suite: `make audit` runs it (bench/lighthouse.py).
"""

import re

import pytest
from django.conf import settings

from tests.support.browser import browser_marks
from tests.support.quality import (
    AXE_OPTIONS,
    CLINIC,
    LAYOUT_PROBLEMS,
    PAGES,
    UNSTICK,
    axe_report,
    follow_up_path,
    nu_errors,
    require_java,
)

JUDGED_LANGUAGES = ["en", "ar"]  # left to right, and right to left
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
LAID_OUT_PAGES = {
    "clonus": "/conditions/clonus/",
    "clinic": f"/clinics/{CLINIC}/",
    "request-form": "/inquiries/new/",
}


def in_browser(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_browser
@pytest.mark.parametrize("language", JUDGED_LANGUAGES)
def test_public_pages_have_no_axe_violations(page, demo_site, client, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    judged = {**PAGES, "follow-up page": follow_up_path(client)}
    violations = {}
    for viewport, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in judged.items():
            response = page.goto(f"{demo_site.url}/{language}{path}")
            assert response.status == 200, f"{name}: {response.status}"
            page.evaluate(UNSTICK)
            lines = axe_report(axe.run(page, options=AXE_OPTIONS).response)
            if lines:
                violations[f"{name} (/{language}{path}) on a {viewport}"] = lines

    assert violations == {}, "\n".join(
        f"{where}:\n" + "\n".join(lines) for where, lines in violations.items()
    )


@pytest.mark.parametrize("language", JUDGED_LANGUAGES)
def test_public_pages_have_no_nu_html_checker_errors(client, demo, tmp_path, language):
    require_java()
    files = []
    for name, path in {**PAGES, "follow-up page": follow_up_path(client)}.items():
        response = client.get(f"/{language}{path}")
        assert response.status_code == 200, f"{name}: {response.status_code}"
        files.append(tmp_path / f"{language}-{name.replace(' ', '-')}.html")
        files[-1].write_bytes(response.content)

    errors = nu_errors(files)

    assert errors == [], f"{len(errors)} errors:\n" + "\n".join(errors)


@in_browser
def test_pages_fit_phone_and_desktop_widths_in_every_language(page, demo_site, tmp_path):
    problems = []
    for viewport, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        for language, _name in settings.LANGUAGES:
            for name, path in LAID_OUT_PAGES.items():
                url = f"/{language}{path}"
                response = page.goto(f"{demo_site.url}{url}")
                assert response.status == 200, f"{url}: {response.status}"
                page.evaluate("document.fonts.ready.then(() => true)")
                screenshot = tmp_path / f"{name}-{language}-{viewport}.jpeg"
                page.screenshot(path=screenshot, full_page=True, type="jpeg", quality=80)
                problems += [
                    f"{url} at {width}×{height}: {problem}\n    see {screenshot}"
                    for problem in page.evaluate(LAYOUT_PROBLEMS)
                ]

    assert problems == [], f"{len(problems)} layout problems:\n" + "\n".join(problems)


@in_browser
def test_the_judges_see_faint_text_an_unlabelled_field_and_cut_off_words(page):
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(
        """<!DOCTYPE html><html lang="en"><head><title>Broken on purpose</title></head><body><main>
        <h1>Broken on purpose</h1>
        <p style="color: #bbb">Faint text</p>
        <input type="text" name="nameless">
        <div id="clipped" style="width: 80px; overflow: hidden; white-space: nowrap">A label far too long for its box</div>
        <button style="width: 40px; white-space: nowrap">Continue</button>
        <div style="width: 600px">Wider than a phone</div>
        </main></body></html>"""
    )

    rules = {line.split()[0] for line in axe_report(Axe().run(page, options=AXE_OPTIONS).response)}
    problems = page.evaluate(LAYOUT_PROBLEMS)

    assert {"color-contrast", "label"} <= rules
    assert problems[0] == "page scrolls sideways: 608px wide in a 390px window"
    assert any(problem.startswith('clipped text: div#clipped "A label far') for problem in problems)
    assert any(problem.startswith('text out of its box: button "Continue"') for problem in problems)


def test_pages_go_out_compressed_and_medical_records_as_stored(client, demo):
    import gzip

    from inquiries.models import Inquiry
    from tests.support.patients import pdf_bytes, upload

    follow_up = follow_up_path(client, files=[upload("mri-report.pdf", pdf_bytes(padding=5000))])
    attachment = Inquiry.objects.get(email="judged@example.com").attachments.get()

    page = client.get("/en/conditions/clonus/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    plain = client.get("/en/conditions/clonus/")
    record = client.get(f"/en{follow_up}files/{attachment.pk}/", HTTP_ACCEPT_ENCODING="gzip")

    assert page["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page["Vary"]
    assert "<h1>Clonus</h1>" in gzip.decompress(page.content).decode()
    assert len(page.content) < len(plain.content) / 3
    assert not plain.has_header("Content-Encoding")
    assert record.status_code == 200
    assert not record.has_header("Content-Encoding")
    assert b"".join(record.streaming_content).startswith(b"%PDF-1.4")


def test_each_language_preloads_the_fonts_of_its_script(client, db):
    from django.contrib.staticfiles import finders

    preload = re.compile(
        r'<link rel="preload" href="/static/(vendor/fonts/[^"]+)" as="font" type="font/woff2" '
        r'media="\(min-width: 48rem\)" crossorigin>'  # phones show the system's fonts (site.css)
    )
    preloaded = {
        language: preload.findall(client.get(f"/{language}/").content.decode())
        for language, _name in settings.LANGUAGES
    }

    latin = ["vendor/fonts/noto-sans-latin-400-normal.woff2", "vendor/fonts/noto-sans-latin-700-normal.woff2"]
    assert preloaded["en"] == preloaded["ko"] == preloaded["ja"] == preloaded["zh-hans"] == latin
    assert (
        preloaded["ru"]
        == preloaded["mn"]
        == [
            "vendor/fonts/noto-sans-cyrillic-400-normal.woff2",
            "vendor/fonts/noto-sans-cyrillic-700-normal.woff2",
        ]
    )
    assert preloaded["ar"] == [
        "vendor/fonts/noto-sans-arabic-arabic-400-normal.woff2",
        "vendor/fonts/noto-sans-arabic-arabic-700-normal.woff2",
    ]
    assert preloaded["vi"] == [
        *latin,
        "vendor/fonts/noto-sans-vietnamese-400-normal.woff2",
        "vendor/fonts/noto-sans-vietnamese-700-normal.woff2",
    ]
    assert all(finders.find(path) for paths in preloaded.values() for path in paths)
