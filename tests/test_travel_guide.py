"""The guide to coming to Korea for treatment: in every language with each language's review state,
edited and checked in the admin like a condition page, in the sitemap, and linked from the condition,
clinic and request pages."""

import datetime
import re

import pytest
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from conditions.services import translation_review_save
from staff.roles import CONTENT_EDITOR, MEDICAL_REVIEWER
from tests.factories import make_clinic, make_condition
from tests.support.staff import make_staff, signed_in
from travel.demo.loader import load as load_guide
from travel.models import GuideSection, TravelGuide

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]
ANCHORS = ["visas", "invitation", "companions", "documents", "timelines", "arrival", "payment", "help"]
NOT_CHECKED = (
    "This translation has not yet been checked by a medical reviewer. If anything is unclear, the "
    "English version is the reference."
)
# The words that must read the same in every language: visa types, helplines, the dispute agency.
FIXED_FACTS = [
    "C-3-3",
    "G-1-10",
    "1577-7129",
    "KHIDI",
    "K-medi",
    "1670-2545",
    "AREX",
    "DICOM",
    "www.hikorea.go.kr",
    "119",
]


def tr(language, message):
    with translation.override(language):
        return translation.gettext(message)


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def demo_guide():
    load_guide()
    return TravelGuide.objects.with_page_content().get()


def make_guide(**fields):
    today = timezone.localdate()
    fields = {
        "title_en": "Plan your trip",
        "summary_en": "What to know before you travel.",
        "reviewer_name_en": "Dr. Lee",
        "last_reviewed": today,
        "next_review_due": today + datetime.timedelta(days=180),
        "is_published": True,
        **fields,
    }
    guide = TravelGuide.objects.create(**fields)
    GuideSection.objects.create(
        guide=guide,
        anchor="visas",
        heading_en="Visas",
        heading_ko="비자",
        body_en="Apply early.\n\n- C-3-3: up to 90 days.\n- G-1-10: beyond 90 days.",
        body_ko="일찍 신청하세요.",
        position=1,
    )
    return guide


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_demo_guide_reads_in_each_language_with_its_review_state(client, language):
    guide = demo_guide()
    response = client.get(f"/{language}/plan-your-trip/")
    assert response.status_code == 200
    html = response.content.decode()
    title = guide.localized("title", language)
    assert title and f"<h1>{title}</h1>" in html.replace("&#x27;", "'")
    # The table of contents lists each section, in order, by its heading in the language.
    toc = html[html.index('<nav class="toc"') : html.index("</nav>", html.index('<nav class="toc"'))]
    assert re.findall(r'href="#([a-z-]+)"', toc) == [*ANCHORS, "review"]
    for section in guide.sections.all():
        heading = (
            section.heading_en
            if language == "en"
            else getattr(section, f"heading_{language.replace('-', '_')}")
        )
        assert heading and f'id="{section.anchor}-heading">{heading}</h2>' in html
    for fact in FIXED_FACTS:
        assert fact in html, fact
    # English is the reviewed reference; the translations say they await a medical reviewer.
    notice = tr(language, NOT_CHECKED)
    if language == "en":
        assert tr("en", NOT_CHECKED) not in html
    else:
        assert notice != NOT_CHECKED or language == "en"
        assert notice in text_of(html)
        assert 'href="/en/plan-your-trip/" hreflang="en"' in html
    assert "Clinic Portal medical review board (demo content)" in html
    # The review box says whose review it is: the English version's, until this translation is checked.
    review_box = text_of(html.split('id="review"', 1)[1].split("</aside>", 1)[0])
    if language == "en":
        assert "Reviewed by" in review_box and tr("en", "This translation") not in review_box
    else:
        assert tr(language, "English version reviewed by") in review_box
        assert tr(language, "Not yet checked by a medical reviewer") in review_box


def test_the_demo_guide_is_written_in_every_language_and_loads_twice_without_duplicates():
    load_guide()
    load_guide()
    guide = TravelGuide.objects.get()
    assert guide.is_published
    assert guide.sections.count() == len(ANCHORS)
    for language in LANGUAGES:
        assert guide.is_translated(language), language
        for section in guide.sections.all():
            column = language.replace("-", "_")
            assert getattr(section, f"heading_{column}") and getattr(section, f"body_{column}"), (
                language,
                section.anchor,
            )
    assert guide.translation_reviews.count() == 0


def test_a_checked_translation_drops_the_notice_until_its_text_changes(client):
    guide = demo_guide()
    translation_review_save(subject=guide, language="ko", reviewer_name="Dr. Kim")
    assert tr("ko", NOT_CHECKED) not in text_of(client.get("/ko/plan-your-trip/").content.decode())
    assert tr("ru", NOT_CHECKED) in text_of(client.get("/ru/plan-your-trip/").content.decode())

    section = guide.sections.get(anchor="payment")
    section.body_ko += "\n\n- 현금 영수증을 요청하세요."
    section.save()
    assert tr("ko", NOT_CHECKED) in text_of(client.get("/ko/plan-your-trip/").content.decode())


def test_a_language_without_translation_says_it_reads_the_english(client):
    make_guide()
    html = client.get("/mn/plan-your-trip/").content.decode()
    assert "Plan your trip" in html
    assert tr("mn", NOT_CHECKED) not in text_of(html)
    assert "<li>C-3-3: up to 90 days.</li><li>G-1-10: beyond 90 days.</li>" in html


def test_the_page_has_hreflang_alternates_and_is_in_the_sitemap(client):
    make_guide()
    html = client.get("/ja/plan-your-trip/").content.decode()
    for language in LANGUAGES:
        assert re.search(
            rf'<link rel="alternate" hreflang="{language}" href="[^"]*/{language}/plan-your-trip/"', html
        )
    sitemap = client.get("/sitemap.xml").content.decode()
    for language in LANGUAGES:
        assert f"/{language}/plan-your-trip/</loc>" in sitemap


def test_without_a_published_guide_there_is_no_page_and_no_sitemap_entry(client):
    make_guide(is_published=False)
    assert client.get("/en/plan-your-trip/").status_code == 404
    assert "plan-your-trip" not in client.get("/sitemap.xml").content.decode()


def test_the_page_takes_the_same_queries_however_many_sections(client, django_assert_num_queries):
    guide = make_guide()
    with django_assert_num_queries(3):
        client.get("/en/plan-your-trip/")
    for number in range(2, 12):
        GuideSection.objects.create(guide=guide, anchor=f"part-{number}", heading_en="Part", body_en="Text.")
    with django_assert_num_queries(3):
        html = client.get("/en/plan-your-trip/").content.decode()
    assert 'id="part-11"' in html


def test_an_edit_shows_at_once_on_the_cached_page(settings, django_capture_on_commit_callbacks):
    settings.PAGE_CACHE = True
    caches["pages"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        guide = make_guide()
    assert "Plan your trip" in Client().get("/en/plan-your-trip/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        guide.title_en = "Coming to Korea for treatment"
        guide.save()
    assert "Coming to Korea for treatment" in Client().get("/en/plan-your-trip/").content.decode()
    caches["pages"].clear()


def test_review_dates_are_checked_and_one_guide_is_on_the_site():
    make_guide()
    today = timezone.localdate()
    backwards = TravelGuide(
        title_en="Second",
        summary_en="Another.",
        last_reviewed=today,
        next_review_due=today,
        is_published=False,
    )
    with pytest.raises(ValidationError) as refused:
        backwards.full_clean()
    assert refused.value.message_dict["next_review_due"] == [
        "The next review must come after the last review."
    ]

    second = TravelGuide(
        title_en="Second",
        summary_en="Another.",
        reviewer_name_en="Dr. Park",
        last_reviewed=today,
        next_review_due=today + datetime.timedelta(days=30),
        is_published=True,
    )
    with pytest.raises(ValidationError) as refused:
        second.full_clean()
    assert refused.value.message_dict["is_published"] == ["Another guide is on the site: take it off first."]


def test_the_admin_shows_each_languages_review_state_and_a_reviewer_checks_one():
    guide = demo_guide()
    editor = signed_in(make_staff("editor", CONTENT_EDITOR))
    reviewer = signed_in(make_staff("reviewer", MEDICAL_REVIEWER, first_name="Minho", last_name="Park"))
    change_url = f"/admin/travel/travelguide/{guide.pk}/change/"

    html = editor.get(change_url).content.decode()
    states = re.findall(
        r'<tr data-language="([a-z-]+)">.*?<td class="review-state">\s*(.*?)\s*</td>', html, re.S
    )
    assert states == [(code, "Not yet checked") for code in LANGUAGES if code != "en"]
    # Only a medical reviewer records a check.
    assert editor.get(f"/admin/travel/travelguide/{guide.pk}/translations/ru/").status_code == 404

    page = reviewer.get(f"/admin/travel/travelguide/{guide.pk}/translations/ru/").content.decode()
    assert "Визы для лечения" in page and "Visas for medical treatment" in page
    response = reviewer.post(
        f"/admin/travel/travelguide/{guide.pk}/translations/ru/", {"reviewer_name": "Dr Ivanova"}
    )
    assert response.status_code == 302
    review = guide.translation_reviews.get()
    assert (review.language, review.reviewer_name, review.reviewed_by.username) == (
        "ru",
        "Dr Ivanova",
        "reviewer",
    )
    html = editor.get(change_url).content.decode()
    assert re.search(r'<tr data-language="ru">.*?Checked by Dr Ivanova on', html, re.S)
    assert tr("ru", NOT_CHECKED) not in text_of(Client().get("/ru/plan-your-trip/").content.decode())


def test_an_editor_saves_the_guide_and_its_sections_in_the_admin():
    guide = make_guide()
    section = guide.sections.get()
    editor = signed_in(make_staff("editor", CONTENT_EDITOR))
    today = timezone.localdate()
    data = {
        "title_en": "Plan your trip to Korea",
        "title_ko": "한국 여행 계획",
        "summary_en": "What to know before you travel.",
        "is_published": "on",
        "reviewer_name_en": "Dr. Lee",
        "last_reviewed": today.isoformat(),
        "next_review_due": (today - datetime.timedelta(days=1)).isoformat(),
        "sections-TOTAL_FORMS": "1",
        "sections-INITIAL_FORMS": "1",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        "sections-0-id": str(section.pk),
        "sections-0-guide": str(guide.pk),
        "sections-0-anchor": "visas",
        "sections-0-position": "1",
        "sections-0-heading_en": "Visas for treatment",
        "sections-0-body_en": "Apply early.",
        "_continue": "1",
    }
    url = f"/admin/travel/travelguide/{guide.pk}/change/"
    refused = editor.post(url, data)
    assert refused.status_code == 200
    assert "The next review must come after the last review." in refused.content.decode()
    guide.refresh_from_db()
    assert guide.title_en == "Plan your trip"

    data["next_review_due"] = (today + datetime.timedelta(days=365)).isoformat()
    assert editor.post(url, data).status_code == 302
    guide.refresh_from_db()
    section.refresh_from_db()
    assert (guide.title_en, guide.title_ko, section.heading_en) == (
        "Plan your trip to Korea",
        "한국 여행 계획",
        "Visas for treatment",
    )


def test_condition_clinic_and_request_pages_link_to_the_guide(client):
    condition = make_condition()
    from conditions.models import ConditionStatus

    condition.status = ConditionStatus.PUBLISHED
    condition.save()
    clinic = make_clinic(foreign_patient_registration_number="2024-서울-0001")
    for language in ("en", "vi"):
        with translation.override(language):
            condition_html = client.get(condition.get_absolute_url()).content.decode()
            clinic_html = client.get(clinic.get_absolute_url()).content.decode()
        request_html = client.get(f"/{language}/inquiries/new/").content.decode()
        assert f'href="/{language}/plan-your-trip/"' in condition_html
        assert f'href="/{language}/plan-your-trip/"' in request_html
        # Beside the clinic's registration: what it means for the invitation letter.
        registration = clinic_html[clinic_html.index('class="registration-number"') :]
        assert f'href="/{language}/plan-your-trip/#invitation"' in registration[: registration.index("</dd>")]


def test_a_section_cannot_take_an_address_the_page_uses_itself():
    guide = make_guide()
    section = GuideSection(guide=guide, anchor="review", heading_en="Reviews", body_en="Text.")
    with pytest.raises(ValidationError) as refused:
        section.full_clean()
    assert refused.value.message_dict["anchor"] == [
        "This address is taken by the page itself: choose another."
    ]
