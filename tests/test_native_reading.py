"""Pages that read natively (issue 12): numbers grouped the way each language writes them, plural
forms right in Arabic and Russian, left-to-right runs isolated on Arabic pages, Korean lines broken
between words only."""

import functools
import json
import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.paginator import Paginator
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from clinics.forms import ClinicFilterForm
from conditions.forms import ConditionSearchForm
from conditions.models import Condition, Reference
from inquiries.models import Inquiry
from inquiries.services import inquiry_add_patient_reply
from tests.support.browser import browser_marks
from tests.support.patients import follow_up_url_from, path_of, submit

LANGUAGES = ["en", "ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]
NBSP = "\u00a0"  # CLDR's group separator in Russian, and the space between amount and currency sign
RLM = "\u200f"  # CLDR's Arabic currency pattern starts with a right-to-left mark

HANBIT = "/{}/clinics/hanbit-neuroscience-hospital/"
CLONUS = "/{}/conditions/clonus/"


def page_html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def text_of(fragment):
    """The text without tags, runs of spaces and newlines made one space (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def element_text(html, pattern):
    """The text of the first element whose opening tag matches ``pattern`` (a regex)."""
    match = re.search(pattern + r"[^>]*>(.*?)</(?:h2|p)>", html, re.S)
    assert match, pattern
    return text_of(match.group(1))


def render(source, language, **context):
    with translation.override(language):
        return Template("{% load portal %}" + source).render(Context(context))


# --- Numbers -------------------------------------------------------------------------------------

# What CLDR (through Babel) writes for the price range of Hanbit's intrathecal baclofen pump, with
# each language's range sign from the catalogue.
PUMP_PRICE = {
    "en": "₩25,000,000 – ₩40,000,000",
    "ko": "₩25,000,000~₩40,000,000",
    "ja": "₩25,000,000～₩40,000,000",
    "zh-hans": "₩25,000,000～₩40,000,000",
    "ru": f"25{NBSP}000{NBSP}000{NBSP}₩ – 40{NBSP}000{NBSP}000{NBSP}₩",
    "ar": f"{RLM}25,000,000{NBSP}₩ – {RLM}40,000,000{NBSP}₩",
    "mn": f"₩{NBSP}25,000,000 – ₩{NBSP}40,000,000",
    "vi": f"25.000.000{NBSP}₩ – 40.000.000{NBSP}₩",
}
HANBIT_BEDS = {
    "en": "1,250",
    "ko": "1,250",
    "ja": "1,250",
    "zh-hans": "1,250",
    "ru": f"1{NBSP}250",
    "ar": "1,250",
    "mn": "1,250",
    "vi": "1.250",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_clinic_page_prices_and_beds_are_grouped_the_way_the_language_writes_them(client, demo, language):
    html = page_html(client, HANBIT.format(language))
    assert f">{PUMP_PRICE[language]}</td>" in html
    assert f"<dd>{HANBIT_BEDS[language]}</dd>" in html
    assert "<dd>1978</dd>" in html  # the year founded is a year, never "1,978"
    assert "40000000" not in html and "25000000" not in html


@pytest.mark.parametrize(
    ("language", "number", "krw"),
    [
        ("en", "40,000,000", "₩40,000,000"),
        ("ko", "40,000,000", "₩40,000,000"),
        ("ja", "40,000,000", "₩40,000,000"),
        ("zh-hans", "40,000,000", "₩40,000,000"),
        ("ru", f"40{NBSP}000{NBSP}000", f"40{NBSP}000{NBSP}000{NBSP}₩"),
        ("ar", "40,000,000", f"{RLM}40,000,000{NBSP}₩"),
        ("mn", "40,000,000", f"₩{NBSP}40,000,000"),
        ("vi", "40.000.000", f"40.000.000{NBSP}₩"),
    ],
)
def test_number_and_krw_filters_follow_cldr_for_each_language(language, number, krw):
    assert render("{{ value|number }}|{{ value|krw }}", language, value=40000000) == f"{number}|{krw}"


def test_number_filter_keeps_decimals_in_the_language_and_leaves_blanks_and_words_alone():
    assert render("{{ value|number }}", "en", value=1234.5) == "1,234.5"
    assert render("{{ value|number }}", "ru", value=1234.5) == f"1{NBSP}234,5"
    assert render("{{ value|number }}", "vi", value=1234.5) == "1.234,5"
    assert render("[{{ value|number }}][{{ value|krw }}]", "en", value=None) == "[][]"
    assert render("{{ value|number }}", "en", value="n/a") == "n/a"
    assert render("{{ value|number }}", "en", value=0) == "0"


def test_krw_range_tag_and_filter_give_one_amount_when_only_one_is_known():
    assert render("{% krw_range 400000 1200000 %}", "en") == "₩400,000 – ₩1,200,000"
    assert render("{% krw_range 1200000 400000 %}", "en") == "₩400,000 – ₩1,200,000"
    assert render("{% krw_range low None %}", "en", low=400000) == "₩400,000"
    assert render("{% krw_range None high %}", "en", high=400000) == "₩400,000"
    assert render("{% krw_range low low %}", "ru", low=400000) == f"400{NBSP}000{NBSP}₩"
    assert render("[{% krw_range None None %}]", "en") == "[]"
    assert render("{{ pair|krw_range }}", "ja", pair=(400000, 1200000)) == "₩400,000～₩1,200,000"
    assert render("{{ pair|krw_range }}", "en", pair=(400000, None)) == "₩400,000"
    assert render("{% krw_range 400000 1200000 as price %}<{{ price }}>", "ko") == "<₩400,000~₩1,200,000>"


# --- Plural forms ---------------------------------------------------------------------------------

CLINIC_COUNT = {
    "ar": {
        0: "لا توجد عيادات",
        1: "عيادة واحدة",
        2: "عيادتان",
        3: "3 عيادات",
        11: "11 عيادة",
        12: "12 عيادة",
        100: "100 عيادة",
        1000: "1,000 عيادة",
    },
    "ru": {
        0: "0 клиник",
        1: "1 клиника",
        2: "2 клиники",
        3: "3 клиники",
        11: "11 клиник",
        12: "12 клиник",
        21: "21 клиника",
        100: "100 клиник",
        1000: f"1{NBSP}000 клиник",
    },
    "en": {0: "0 clinics", 1: "1 clinic", 2: "2 clinics", 11: "11 clinics", 1000: "1,000 clinics"},
}


def clinic_count_heading(language, count):
    """The count heading of the real clinic list template, for a list of ``count`` clinics."""
    with translation.override(language):
        html = render_to_string(
            "clinics/clinic_list.html",
            {"form": ClinicFilterForm(), "page": Paginator(range(count), 20).get_page(1), "clinics": []},
        )
    return element_text(html, r'<h2 id="results-heading"')


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [(language, count, text) for language, texts in CLINIC_COUNT.items() for count, text in texts.items()],
)
def test_clinic_count_uses_the_plural_form_of_the_language(db, language, count, expected):
    assert clinic_count_heading(language, count) == expected


@pytest.mark.parametrize(
    ("filters", "count"),
    [("?city=jeju&language=ar", 0), ("?city=daegu", 1), ("?language=ar", 2), ("?language=ja", 3), ("", 12)],
)
@pytest.mark.parametrize("language", ["ar", "ru"])
def test_clinic_list_page_counts_its_results_in_words_of_the_language(client, demo, language, filters, count):
    html = page_html(client, f"/{language}/clinics/{filters}")
    assert len(re.findall(r'data-clinic="', html)) == count
    assert element_text(html, r'<h2 id="results-heading"') == CLINIC_COUNT[language][count]


CONDITION_COUNT = {
    "ar": {
        1: "حالة مرضية واحدة تطابق «clonus».",
        2: "حالتان مرضيتان تطابقان «clonus».",
        3: "3 حالات مرضية تطابق «clonus».",
        11: "11 حالة مرضية تطابق «clonus».",
        100: "100 حالة مرضية تطابق «clonus».",
    },
    "ru": {
        1: "1 заболевание соответствует запросу «clonus».",
        2: "2 заболевания соответствуют запросу «clonus».",
        3: "3 заболевания соответствуют запросу «clonus».",
        11: "11 заболеваний соответствуют запросу «clonus».",
        100: "100 заболеваний соответствуют запросу «clonus».",
    },
}


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [(language, count, text) for language, texts in CONDITION_COUNT.items() for count, text in texts.items()],
)
def test_condition_search_count_uses_the_plural_form_of_the_language(db, language, count, expected):
    found = [SimpleNamespace(slug=f"c{i}", name="C", summary="", get_absolute_url="/") for i in range(count)]
    with translation.override(language):
        html = render_to_string(
            "conditions/condition_list.html",
            {"form": ConditionSearchForm(), "conditions": found, "query": "clonus", "near_misses": None},
        )
    assert element_text(html, r'<p class="result-count"') == expected
    assert "<bdi>clonus</bdi>" in html  # the search word keeps its direction in the sentence


def test_condition_search_page_counts_a_real_result_in_arabic(client, demo):
    html = page_html(client, "/ar/conditions/?q=clonus")
    assert element_text(html, r'<p class="result-count"') == "حالة مرضية واحدة تطابق «clonus»."


ARABIC_STAY = {1: "يوم واحد", 2: "يومان", 3: "3 أيام", 11: "11 يومًا", 100: "100 يوم"}


@pytest.mark.parametrize(("days", "expected"), ARABIC_STAY.items())
def test_typical_stay_reads_naturally_in_arabic(days, expected):
    source = (
        "{% load i18n %}{% blocktranslate count days=days %}{{ days }} day"
        "{% plural %}{{ days }} days{% endblocktranslate %}"
    )
    with translation.override("ar"):
        assert Template(source).render(Context({"days": days})) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "يمكنك إرفاق ملف واحد على الأكثر."),
        (2, "يمكنك إرفاق ملفين على الأكثر."),
        (5, "يمكنك إرفاق 5 ملفات على الأكثر."),
        (11, "يمكنك إرفاق 11 ملفًا على الأكثر."),
        (100, "يمكنك إرفاق 100 ملف على الأكثر."),
    ],
)
def test_attachment_limit_message_has_every_arabic_form(count, expected):
    with translation.override("ar"):
        message = translation.ngettext(
            "You can attach at most %(limit)d file.", "You can attach at most %(limit)d files.", count
        )
    assert message % {"limit": count} == expected


# --- Direction of embedded text on Arabic pages ---------------------------------------------------


def test_arabic_clinic_page_isolates_addresses_numbers_and_names(client, demo):
    html = page_html(client, HANBIT.format("ar"))
    assert (
        '<span class="address" lang="en" dir="ltr">101 Hanbit-ro, Jongno-gu, Seoul (sample address)</span>'
        in html
    )
    assert '<span class="address" lang="ko" dir="ltr">서울특별시 종로구 한빛로 101 (샘플)</span>' in html
    assert '<bdi class="legal-name" lang="ko" dir="ltr">한빛대학교 신경과학병원</bdi>' in html
    assert '<a href="tel:+82234101000" dir="ltr">+82 2-3410-1000</a>' in html
    assert 'rel="noopener" dir="ltr">https://hanbit-neuroscience-hospital.example</a>' in html
    assert '<span class="registration-number" dir="ltr">SAMPLE-2009-0101</span>' in html
    # Language names carry their own direction; the clinic's district sits after the Arabic comma.
    assert '<span class="language-name" lang="en" dir="ltr">English</span>' in html
    assert '<span class="language-name" lang="ar" dir="rtl">العربيّة</span>' in html
    assert "سيول، <bdi>جونغنو-غو</bdi>" in html


def test_arabic_condition_page_marks_references_left_to_right(client, demo):
    clonus = Condition.objects.get(slug="clonus")
    Reference.objects.create(condition=clonus, citation="مرجع عربي للاختبار.", language="ar", position=99)
    html = page_html(client, CLONUS.format("ar"))
    citation = "Boyraz I, Uysal H, Koc B, Sarman H. Clonus: definition, mechanism, treatment. Med Glas (Zenica). 2015;12(1):19-26."
    assert re.search(
        r'<li lang="en"><bdi class="citation" dir="ltr">(<a href="[^"]+" rel="noopener">)?'
        + re.escape(citation)
        + r"(</a>)?</bdi></li>",
        html,
    )
    assert '<li lang="ar"><bdi class="citation" dir="rtl">مرجع عربي للاختبار.</bdi></li>' in html


# Name, the language's list separator, credentials: the demo's translations of the reviewer line.
SEPARATORS = {
    "en": ", ",
    "ko": ", ",
    "ja": "、",
    "zh-hans": "、",
    "ru": ", ",
    "ar": "، ",
    "mn": ", ",
    "vi": ", ",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_reviewed_by_line_and_json_ld_use_the_page_language(client, demo, language):
    with translation.override(language):
        clonus = Condition.objects.get(slug="clonus")
        name, credentials = clonus.reviewer_name, clonus.reviewer_credentials
    if language != "en":  # the demo translates the reviewer line into every language
        assert name != clonus.reviewer_name_en and credentials != clonus.reviewer_credentials_en
    html = page_html(client, CLONUS.format(language))
    assert (
        f'<dd class="reviewer"><bdi>{name}</bdi>{SEPARATORS[language]}<bdi>{credentials}</bdi></dd>' in html
    )
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["inLanguage"] == language
    assert data["reviewedBy"] == {"@type": "Person", "name": name, "description": credentials}


def test_follow_up_page_isolates_the_reference_and_lets_messages_find_their_direction(
    client, request_choices
):
    submit(client, page_language="ar", language="ar")
    [email] = [email for email in mail.outbox if email.to == ["aigerim@example.com"]]
    inquiry_add_patient_reply(
        inquiry=Inquiry.objects.get(), message="MRI report (2024) attached.", uploads=[]
    )
    html = page_html(client, path_of(follow_up_url_from(email)))
    reference = re.search(r"/follow-up/([^/]+)/", follow_up_url_from(email)).group(1)
    assert f"<bdi>{reference}</bdi></h1>" in html
    assert '<p class="message-body" dir="auto">MRI report (2024) attached.</p>' in html


# --- In a real browser ----------------------------------------------------------------------------


def in_browser(test):
    return functools.reduce(lambda marked, mark: mark(marked), browser_marks(), test)


@in_browser
def test_arabic_page_shows_address_and_reference_left_to_right(page, demo_site, console_errors):
    page.goto(f"{demo_site.url}{HANBIT.format('ar')}")
    address = page.locator('.address[lang="en"]')
    style = address.evaluate("e => [getComputedStyle(e).direction, getComputedStyle(e).unicodeBidi]")
    assert style == ["ltr", "isolate"]
    assert address.evaluate("e => getComputedStyle(e.parentElement).direction") == "rtl"
    assert page.locator('a[href^="tel:"]').evaluate("e => getComputedStyle(e).direction") == "ltr"
    # The typed-in e-mail address of the request form runs left to right on the Arabic page.
    assert (
        page.locator("#consultation input[type=email]").evaluate("e => getComputedStyle(e).direction")
        == "ltr"
    )

    page.goto(f"{demo_site.url}{CLONUS.format('ar')}")
    citation = page.locator('.references li[lang="en"] .citation').first
    assert citation.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # The full stop ending "…2015;12(1):19-26." is drawn after the last digit, not before the first.
    last_two = citation.evaluate(
        """e => {
            const text = e.textContent, node = document.createTreeWalker(e, NodeFilter.SHOW_TEXT).nextNode();
            const box = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                               return r.getBoundingClientRect().left; };
            return [box(node.length - 2), box(node.length - 1), text.endsWith(".")];
        }"""
    )
    assert last_two[2] and last_two[1] > last_two[0]
    assert console_errors == []


@in_browser
def test_korean_breaks_lines_between_words_and_japanese_strictly(page, demo_site):
    page.goto(f"{demo_site.url}{CLONUS.format('ko')}")
    assert page.locator("main .lead").first.evaluate("e => getComputedStyle(e).wordBreak") == "keep-all"
    page.goto(f"{demo_site.url}{CLONUS.format('ja')}")
    lead = page.locator("main .lead").first
    assert lead.evaluate("e => [getComputedStyle(e).wordBreak, getComputedStyle(e).lineBreak]") == [
        "normal",
        "strict",
    ]


def test_vietnamese_dates_read_right_inside_a_sentence(client, demo):
    from clinics.models import Accreditation

    accreditation = Accreditation.objects.filter(valid_until__isnull=False).select_related("clinic").first()
    html = unescape(client.get(f"/vi/clinics/{accreditation.clinic.slug}/").content.decode())

    until = accreditation.valid_until
    assert f"{until.day} tháng {until.month} năm {until.year}" in html
    assert "Ngày" not in html  # Django's own format starts with a capital "Ngày", even mid-sentence
