"""Shared set-up of the browser tests: Debian's Chromium driven by Playwright, never a downloaded one."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def browser_marks():
    """Marks for a module of browser tests: a live server needs real transactions."""
    marks = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            raise RuntimeError("Chromium is required for the browser tests (apt-get install chromium)")
        marks.append(pytest.mark.skip(reason="Chromium is not installed"))
    return marks
