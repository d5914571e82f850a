import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

LANGUAGE_CODES = [code for code, _ in settings.LANGUAGES]

pytestmark = pytest.mark.django_db


def test_root_redirects_to_english_without_accept_language(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/en/"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.5", "/ko/"),
        ("ar-SA,ar;q=0.9", "/ar/"),
        ("zh-CN,zh;q=0.9", "/zh-hans/"),
        ("ru", "/ru/"),
        ("mn-MN", "/mn/"),
        ("vi-VN,vi;q=0.8", "/vi/"),
        ("ja-JP", "/ja/"),
        ("de-DE,fr;q=0.8", "/en/"),
    ],
)
def test_root_redirects_to_best_language_from_accept_language(client, accept_language, expected):
    response = client.get("/", headers={"accept-language": accept_language})
    assert response.status_code == 302
    assert response["Location"] == expected


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_home_page_is_served_under_every_language_prefix(client, code):
    response = client.get(f"/{code}/")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == code
    html = response.content.decode()
    assert f'<html lang="{code}"' in html


def test_home_page_text_is_translated_in_korean_and_arabic(client):
    korean = client.get("/ko/").content.decode()
    arabic = client.get("/ar/").content.decode()
    english = client.get("/en/").content.decode()
    assert "Skip to main content" in english
    assert "Skip to main content" not in korean
    assert "본문으로 건너뛰기" in korean
    assert "Skip to main content" not in arabic


def test_rtl_direction_only_on_arabic_pages(client):
    for code in LANGUAGE_CODES:
        html = client.get(f"/{code}/").content.decode()
        expected_dir = "rtl" if code == "ar" else "ltr"
        assert f'<html lang="{code}" dir="{expected_dir}">' in html, code


def test_hreflang_alternates_are_complete_on_a_public_page(client):
    html = client.get("/ja/privacy/").content.decode()
    for code in LANGUAGE_CODES:
        assert f'<link rel="alternate" hreflang="{code}" href="http://testserver/{code}/privacy/">' in html
    assert '<link rel="alternate" hreflang="x-default" href="http://testserver/privacy/">' in html
    # the language-neutral address sends each reader to their language
    assert client.get("/privacy/", headers={"accept-language": "ja"})["Location"] == "/ja/privacy/"
    assert '<link rel="canonical" href="http://testserver/ja/privacy/">' in html


def test_language_switcher_keeps_the_current_page(client):
    html = client.get("/en/privacy/").content.decode()
    assert 'href="/ko/privacy/" hreflang="ko" lang="ko"' in html
    assert 'href="/ar/privacy/" hreflang="ar" lang="ar" dir="rtl"' in html
    assert 'href="/zh-hans/privacy/" hreflang="zh-hans" lang="zh-hans"' in html
    assert "한국어" in html  # each language is named in itself


def test_language_switcher_keeps_the_query_string(client):
    html = client.get("/en/privacy/?page=2").content.decode()
    assert 'href="/vi/privacy/?page=2"' in html


@pytest.mark.parametrize(
    ("code", "title"),
    [("en", "Page not found"), ("ko", "페이지를 찾을 수 없습니다"), ("ar", "الصفحة غير موجودة")],
)
def test_404_page_is_translated(client, code, title):
    response = client.get(f"/{code}/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert title in html
    assert 'name="robots" content="noindex"' in html


def test_healthz_reports_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "local"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_503_when_database_fails(client, monkeypatch):
    from django.db import OperationalError

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_robots_txt_keeps_crawlers_out_of_admin_and_inquiries(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Disallow: /admin/" in body
    assert "Disallow: /*/inquiries/" in body


def test_security_headers_on_a_public_page(client):
    response = client.get("/en/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_public_pages_carry_no_inline_script_or_style_attribute(client):
    for path in ("/en/", "/ar/privacy/", "/ko/no-such-page/"):
        html = client.get(path).content.decode()
        assert "<script>" not in html
        assert "<script " not in html.replace('<script src="', "")
        assert " style=" not in html
        assert "<style" not in html


def test_footer_has_disclaimer_and_privacy_link_in_every_language(client):
    for code in LANGUAGE_CODES:
        html = client.get(f"/{code}/").content.decode()
        assert f'href="/{code}/privacy/"' in html
        assert 'class="disclaimer"' in html
        assert 'href="#main"' in html
        assert '<main id="main"' in html


def _run_settings(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_overrides)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic_portal.settings'; django.setup()",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_refuse_to_start_without_secret_key():
    result = _run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_start_with_secret_key():
    result = _run_settings({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode == 0, result.stderr


def test_postgresql_test_database_is_utf8_with_utf8_ctype():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite always stores UTF-8")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()"
        )
        encoding, ctype = cursor.fetchone()
        cursor.execute("SELECT upper('клонус'), lower('KLONUS')")
        upper, lower = cursor.fetchone()
    assert encoding == "UTF8"
    assert "utf" in ctype.lower().replace("-", "")
    assert upper == "КЛОНУС"
    assert lower == "klonus"


@pytest.mark.urls("tests.support.urls_error")
@pytest.mark.parametrize("code", ["en", "ko", "ar"])
def test_500_page_is_translated(code):
    from django.test import Client
    from django.utils import translation

    response = Client(raise_request_exception=False).get(f"/{code}/broken/")
    assert response.status_code == 500
    with translation.override(code):
        expected = translation.gettext("Something went wrong")
    assert expected in response.content.decode()
    if code != "en":
        assert expected != "Something went wrong"
    assert f'<html lang="{code}"' in response.content.decode()


def test_every_language_is_named_in_itself_in_the_switcher(client):
    import unicodedata

    html = unicodedata.normalize("NFC", client.get("/en/").content.decode())
    for name in ("English", "한국어", "日本語", "简体中文", "Русский", "العربيّة", "Монгол", "Tiếng Việt"):
        assert f">{name}</a>" in html, name


def test_sitemap_lists_public_pages_in_every_language_with_alternates(client):
    from conditions.demo.loader import load

    load()
    body = client.get("/sitemap.xml").content.decode()
    for code in LANGUAGE_CODES:
        assert f"<loc>http://testserver/{code}/conditions/clonus/</loc>" in body
    assert 'hreflang="x-default" href="http://testserver/conditions/clonus/"' in body
    assert "/inquiries/follow-up/" not in body
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()
