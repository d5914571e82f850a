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


def staff_sign_in(page, site, username, password, next_path="/admin/"):
    """Sign in through the staff pages: password, then enrolment of an authenticator app (first time)
    or a backup code. Ends on ``next_path``."""
    import base64

    from django_otp.oath import totp
    from django_otp.plugins.otp_static.models import StaticToken

    page.goto(f"{site.url}{next_path}")
    page.wait_for_url("**/staff/sign-in/**")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/staff/two-factor/**")
    if "/setup/" in page.url:
        secret = page.locator("[data-secret]").inner_text().strip()
        page.fill("#id_token", f"{totp(base64.b32decode(secret)):06d}")
        page.click("input[type=submit]")
        page.locator(".backup-codes").wait_for()
        page.click("text=Continue")
    else:
        code = StaticToken.objects.filter(device__user__username=username).first().token
        page.fill("#id_token", code)
        page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")
