"""The privacy notice and the about page: the operator, the contact and the retention periods from
settings, in every language; the footer, the sitemap, the consent text and the system check."""

import re

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.utils import translation

from clinic_portal.templatetags.portal import days_in_words, hours_in_words

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]

OPERATOR = {
    "OPERATOR_NAME": "Hanul Medical Travel Co., Ltd.",
    "OPERATOR_ADDRESS": "12 Saemunan-ro, Jongno-gu, Seoul 03170",
    "OPERATOR_REGISTRATION_NUMBER": "101-86-12345",
    "OPERATOR_EMAIL": "hello@hanul.example",
    "PRIVACY_CONTACT_EMAIL": "dpo-desk@hanul.example",
    "DATA_PROTECTION_OFFICER": "Kim Minji, dpo@hanul.example",
    "DATA_STORAGE_COUNTRY": "KR",
}

# INQUIRY_RETENTION_DAYS=365, INQUIRY_ABANDONED_DAYS=548, HELD_UPLOAD_HOURS=24, BACKUP_KEEP=14 in words.
RETENTION_IN_WORDS = {
    "en": ["12 months", "18 months", "24 hours", "14 days"],
    "ko": ["12개월", "18개월", "24시간", "14일"],
    "ja": ["12か月", "18か月", "24時間", "14日"],
    "zh-hans": ["12个月", "18个月", "24小时", "14天"],
    "ru": ["12 месяцев", "18 месяцев", "24 часа", "14 дней"],
    "ar": ["12 شهرًا", "18 شهرًا", "24 ساعة", "14 يومًا"],
    "mn": ["12 сар", "18 сар", "24 цаг", "14 хоног"],
    "vi": ["12 tháng", "18 tháng", "24 giờ", "14 ngày"],
}
STORAGE_COUNTRY = {
    "en": "South Korea",
    "ko": "대한민국",
    "ja": "韓国",
    "zh-hans": "韩国",
    "ru": "Южная Корея",
    "ar": "كوريا الجنوبية",
    "mn": "Өмнөд Солонгос",
    "vi": "Hàn Quốc",
}


@pytest.fixture
def operator(settings):
    for name, value in OPERATOR.items():
        setattr(settings, name, value)
    settings.INQUIRY_RETENTION_DAYS = 365
    settings.INQUIRY_ABANDONED_DAYS = 548
    settings.HELD_UPLOAD_HOURS = 24
    settings.BACKUP_KEEP = 14
    settings.AUDIT_RETENTION_DAYS = 730


def text_of(response):
    """The page's main text without tags (inline ones dropped, others a space), spaces collapsed."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"</?(bdi|a|strong|time)\b[^>]*>", "", main)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_privacy_notice_names_the_operator_contact_storage_and_retention_in_every_language(
    client, operator, language
):
    response = client.get(f"/{language}/privacy/")

    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert "Hanul Medical Travel Co., Ltd." in text
    assert "12 Saemunan-ro, Jongno-gu, Seoul 03170" in text
    assert "101-86-12345" in text
    assert '<a href="mailto:dpo-desk@hanul.example">dpo-desk@hanul.example</a>' in html
    assert "Kim Minji, dpo@hanul.example" in text
    assert STORAGE_COUNTRY[language] in text
    for words in RETENTION_IN_WORDS[language]:
        assert words in text, words
    assert '<time datetime="2026-11-27">' in html
    assert f'href="/{language}/inquiries/lost-link/"' in html
    assert "badge-sample" not in html  # real values: no sample notice
    assert "%(" not in html and "{{" not in html


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_about_page_names_the_operator_and_the_contacts_in_every_language(client, operator, language):
    response = client.get(f"/{language}/about/")

    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(response)
    assert "Hanul Medical Travel Co., Ltd." in text
    assert "12 Saemunan-ro, Jongno-gu, Seoul 03170" in text
    assert "101-86-12345" in text
    assert '<a href="mailto:hello@hanul.example">hello@hanul.example</a>' in html
    assert '<a href="mailto:dpo-desk@hanul.example">dpo-desk@hanul.example</a>' in html
    assert f'href="/{language}/privacy/"' in html
    assert f'href="/{language}/inquiries/new/"' in html
    assert f'href="/{language}/about/ranking/"' in html
    assert "%(" not in html


def test_privacy_notice_speaks_the_reader_s_language(client, operator):
    russian = text_of(client.get("/ru/privacy/"))
    arabic = text_of(client.get("/ar/privacy/"))

    assert "Закрытый запрос хранится 12 месяцев после закрытия" in russian
    assert "страна их размещения — Южная Корея" in russian
    assert "Сайтом Clinic Portal управляет Hanul Medical Travel Co., Ltd. — эта организация" in russian
    assert "يُحتفظ بالطلب المغلق مدة 12 شهرًا بعد إغلاقه" in arabic


def test_development_defaults_are_marked_as_sample_values(client):
    html = client.get("/en/privacy/").content.decode()

    assert settings.SAMPLE_OPERATOR["OPERATOR_NAME"] in html
    assert '<span class="badge badge-sample">Sample data</span>' in html
    assert "These details of the operator are sample values for development, not a real company." in html
    assert "Sample data" in client.get("/en/about/").content.decode()


def test_privacy_contact_falls_back_to_the_operator_email_and_no_dpo_is_shown_unset(
    client, operator, settings
):
    settings.PRIVACY_CONTACT_EMAIL = ""
    settings.DATA_PROTECTION_OFFICER = ""

    html = client.get("/en/privacy/").content.decode()

    assert 'Write to <a href="mailto:hello@hanul.example">hello@hanul.example</a> to see, correct' in html
    assert "Data protection officer" not in html


def test_retention_periods_read_in_months_when_whole_and_in_days_otherwise():
    with translation.override("en"):
        assert days_in_words(365) == "12 months"
        assert days_in_words(548) == "18 months"
        assert days_in_words(730) == "24 months"
        assert days_in_words(30) == "30 days"
        assert days_in_words(100) == "100 days"
        assert days_in_words(1) == "1 day"
        assert hours_in_words(1) == "1 hour"
    with translation.override("ru"):
        assert [days_in_words(days) for days in (61, 91, 365)] == ["2 месяца", "3 месяца", "12 месяцев"]
        assert [days_in_words(days) for days in (21, 22, 25)] == ["21 день", "22 дня", "25 дней"]
        assert [hours_in_words(hours) for hours in (1, 2, 5)] == ["1 час", "2 часа", "5 часов"]
    with translation.override("ar"):
        assert days_in_words(61) == "شهرين"


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_footer_links_the_about_page_and_the_privacy_notice(client, language):
    html = client.get(f"/{language}/").content.decode()
    footer = html[html.index('<footer class="site-footer">') :]

    assert f'href="/{language}/about/"' in footer
    assert f'href="/{language}/privacy/"' in footer


def test_sitemap_lists_the_privacy_and_about_pages_in_every_language_with_alternates(client, db):
    body = client.get("/sitemap.xml").content.decode()

    for page in ("privacy", "about"):
        for code in LANGUAGE_CODES:
            assert f"<loc>http://testserver/{code}/{page}/</loc>" in body
            assert f'hreflang="{code}" href="http://testserver/{code}/{page}/"' in body
        assert f'hreflang="x-default" href="http://testserver/{page}/"' in body


def test_pages_carry_hreflang_alternates_and_no_inline_script_or_style(client):
    html = client.get("/ko/about/").content.decode()

    for code in LANGUAGE_CODES:
        assert f'<link rel="alternate" hreflang="{code}" href="http://testserver/{code}/about/">' in html
    assert " style=" not in html and "<style" not in html
    assert "<script " not in html.replace('<script src="', "")


def test_consent_checkbox_is_followed_by_the_link_to_the_privacy_notice(client, demo):
    html = client.get("/ja/inquiries/new/").content.decode()
    consent = html[html.index('name="consent_health_data"') : html.index('name="consent_news"')]

    assert '<a href="/ja/privacy/">' in consent


# --- the system check --------------------------------------------------------------------------------


def check_ids():
    return [message.id for message in run_checks()]


def test_check_warns_when_debug_is_off_and_the_operator_is_not_set(settings):
    settings.DEBUG = False
    settings.OPERATOR_NAME = ""
    settings.PRIVACY_CONTACT_EMAIL = ""

    [warning] = [message for message in run_checks() if message.id == "clinic_portal.W005"]
    assert warning.msg.startswith("OPERATOR_NAME, PRIVACY_CONTACT_EMAIL are not set")


def test_check_is_quiet_when_the_operator_is_set_or_debug_is_on(settings, operator):
    settings.DEBUG = False
    assert "clinic_portal.W005" not in check_ids()
    settings.DEBUG = True
    settings.OPERATOR_NAME = ""
    assert "clinic_portal.W005" not in check_ids()


def test_check_refuses_a_storage_country_that_is_no_country_code(settings):
    settings.DATA_STORAGE_COUNTRY = "XX"

    assert "clinic_portal.E002" in check_ids()
