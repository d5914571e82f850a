import datetime
import json
import re
from html import unescape

import pytest
from django.utils import translation

from conditions.demo.loader import english_strings, load, translations
from conditions.models import Condition, ConditionStatus
from conditions.services import translation_review_record
from tests.factories import make_condition

pytestmark = pytest.mark.django_db

NON_ENGLISH = ["ko", "ja", "zh-hans", "ru", "ar", "mn", "vi"]

# Every section heading and key fact of the source text, as the English page must show them.
SOURCE_HEADINGS = [
    "Overview",
    "Key facts",
    "What is Clonus?",
    "Key characteristics",
    "Symptoms related to Clonus",
    "Causes of Clonus",
    "When should I see a doctor?",
    "Care and treatment",
    "Treatment options in Korea",
]
SOURCE_FACTS = [
    "involuntary, rhythmic, and repeated muscle contractions, typically observed in the ankle, knee, or wrist",
    "upper motor neuron lesions or neurological disorders affecting the central nervous system (CNS)",
    "utilizing clinical evaluation, imaging, and physical therapy to reduce symptoms and improve mobility",
    "Clonus is usually triggered by sudden stretching of a muscle.",
    "It is a sign of underlying neurological problems, not a disease on its own.",
    "Commonly associated with stroke, multiple sclerosis, cerebral palsy, spinal cord injury, or traumatic brain injury.",
    "Can affect one limb (unilateral) or both limbs (bilateral).",
    "often noticeable as a series of rapid jerks",
    "Repetitive, rhythmic muscle movements",
    "Commonly affects ankle, knee, wrist, or fingers",
    "Associated with increased muscle tone (spasticity)",
    "May occur in isolation or with other neurological symptoms such as weakness or hyperreflexia",
    "Clonus is considered a sign of CNS dysfunction affecting motor control pathways, rather than a standalone disease.",
    "Muscle stiffness or spasticity",
    "Involuntary rhythmic jerking",
    "Difficulty walking or maintaining balance",
    "Muscle fatigue or soreness after repeated clonus episodes",
    "Associated neurological symptoms like hyperactive reflexes, weakness, or impaired coordination",
    "Clonus can interfere with mobility and daily activities.",
    "Severity ranges from mild and barely noticeable to severe, affecting gait and hand function.",
    "Early evaluation helps identify the underlying neurological disorder and prevent complications.",
    "Damage to upper motor neurons in the brain can trigger clonus in affected limbs.",
    "Demyelination disrupts nerve signals, leading to involuntary muscle contractions.",
    "Trauma to the spinal cord may cause spasticity and clonus below the injury site.",
    "Upper motor neuron lesions in children can result in clonus, often in the ankle or knee.",
    "CNS damage can lead to hyperactive reflexes and clonus.",
    "Amyotrophic lateral sclerosis (ALS) or severe peripheral nerve lesions in rare cases.",
    "Clonus occurs due to disruption of inhibitory signals from the brain to the spinal cord",
    "If clonus appears suddenly or after trauma, especially with weakness or numbness.",
    "If clonus is persistent or worsening, impacting mobility or daily activities.",
    "If accompanied by other neurological symptoms such as muscle weakness, spasticity, or gait disturbances.",
    "For children with cerebral palsy, early assessment is critical for managing long-term motor function.",
    "Early evaluation ensures accurate diagnosis, treatment of underlying causes, and improved functional outcomes.",
    "Management of clonus focuses on reducing symptoms and treating the underlying neurological disorder",
    "Stretching exercises</strong> — to reduce spasticity",
    "Strengthening exercises</strong> — to improve motor control",
    "Gait training and balance exercises",
    "Muscle relaxants</strong> — such as baclofen or tizanidine",
    "Benzodiazepines</strong> — in certain cases to reduce muscle overactivity",
    "assistance with daily activities affected by clonus",
    "Adaptive devices</strong> — for mobility or hand function",
    "Intrathecal baclofen pump</strong> — for severe, treatment-resistant clonus",
    "Nerve blocks</strong> — in selected cases",
    "Avoiding prolonged immobilization</strong> — to prevent stiffness",
    "Regular monitoring and follow-up</strong> — with a neurologist or rehabilitation specialist",
    "Comprehensive evaluation using neurological exams, MRI, and nerve conduction studies.",
    "Physical and occupational therapy programs tailored to reduce spasticity and improve mobility.",
    "Collaboration among neurologists, physiatrists, physical therapists, and occupational therapists.",
    "Intrathecal baclofen pumps, botulinum toxin injections, and surgical options for severe cases.",
    "Multilingual consultations, diagnostics, and treatment plans for international patients.",
    "Continuous monitoring of neurological function and therapy adjustment to optimize recovery.",
]
SOURCE_GROUPS = [
    "Physical therapy",
    "Medications",
    "Occupational therapy",
    "Surgical or interventional procedures",
    "Lifestyle measures",
]
CLONUS_NAMES = {
    "en": "Clonus",
    "ko": "클로누스",
    "ja": "クローヌス",
    "zh-hans": "阵挛",
    "ru": "Клонус",
    "ar": "الرمع",
    "mn": "Клонус",
    "vi": "Clonus (rung giật)",
}


@pytest.fixture
def demo(db):
    load()
    return Condition.objects.get(slug="clonus")


def page_text(response):
    return unescape(response.content.decode())


def jsonld_blocks(html):
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    ]


def test_english_clonus_page_shows_every_heading_and_fact_of_the_source(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    for heading in SOURCE_HEADINGS + SOURCE_GROUPS:
        assert heading in html, heading
    for fact in SOURCE_FACTS:
        assert fact in html, fact
    for cause in (
        "Stroke",
        "Multiple sclerosis",
        "Spinal cord injury",
        "Cerebral palsy",
        "Traumatic brain injury",
    ):
        assert f"<dt>{cause}</dt>" in html


def test_clonus_page_has_table_of_contents_and_advice_notice(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    for anchor in (
        "overview",
        "key-facts",
        "what-is",
        "symptoms",
        "causes",
        "see-a-doctor",
        "treatment",
        "korea",
        "review",
    ):
        assert f'href="#{anchor}"' in html
        assert f'id="{anchor}"' in html
    assert "Information, not medical advice." in html


def test_urgent_warning_sign_is_marked_and_others_are_not(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    urgent = re.findall(r'<li class="warning-urgent">(.*?)</li>', html, flags=re.S)
    ordinary = re.findall(r'<li class="warning">(.*?)</li>', html, flags=re.S)
    assert len(urgent) == 1
    assert "Seek care promptly" in urgent[0]
    assert "appears suddenly or after trauma" in urgent[0]
    assert len(ordinary) == 4


def test_review_box_shows_reviewer_dates_and_references(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    assert "Reviewed by" in html
    assert demo.reviewer_name in html
    assert '<time datetime="2026-11-20">' in html
    assert '<time datetime="2027-11-20">' in html
    assert "Clonus: definition, mechanism, treatment. Med Glas (Zenica)" in html


@pytest.mark.parametrize("language", NON_ENGLISH)
def test_demo_translation_of_clonus_is_complete(language):
    english = english_strings()
    translated = translations()[language]
    clonus_keys = [
        key for key in english if not key.startswith(("condition.spasticity.", "condition.stroke-"))
    ]
    missing = [key for key in clonus_keys if not translated.get(key, "").strip()]
    assert missing == []
    copied = [key for key in clonus_keys if translated[key] == english[key] and len(english[key]) > 12]
    assert copied == []


@pytest.mark.parametrize("language", NON_ENGLISH)
def test_clonus_page_is_translated(client, demo, language):
    response = client.get(f"/{language}/conditions/clonus/")
    html = page_text(response)
    assert response.status_code == 200
    assert f"<h1>{CLONUS_NAMES[language]}</h1>" in html
    # No English content or headings leak into the page body.
    for english in (
        "Clonus is usually triggered by sudden stretching of a muscle.",
        "Muscle stiffness or spasticity",
        "Intrathecal baclofen pump",
        "for severe, treatment-resistant clonus",
        "Key facts",
        "Care and treatment",
        "When should I see a doctor?",
        "Treatment options in Korea",
    ):
        assert english not in html, english
    translated = translations()[language]
    assert translated["condition.clonus.key_fact.1.text"] in html
    assert translated["condition.clonus.cause.1.title"] in html
    assert translated["treatment.intrathecal-baclofen-pump.name"] in html
    with translation.override(language):
        assert translation.gettext("Key facts") in html
        assert translation.gettext("Key facts") != "Key facts"


def test_unreviewed_translation_shows_notice_until_a_reviewer_checks_it(client, demo):
    msgid = (
        "This translation has not yet been checked by a medical reviewer. "
        "If anything is unclear, the English version is the reference."
    )
    with translation.override("ko"):
        notice = translation.gettext(msgid)
    assert notice != msgid
    korean_page = page_text(client.get("/ko/conditions/clonus/"))
    assert notice in korean_page
    assert '<a href="/en/conditions/clonus/" hreflang="en">' in korean_page

    translation_review_record(condition=demo, language="ko", reviewer_name="Dr. Kim")

    assert notice not in page_text(client.get("/ko/conditions/clonus/"))
    assert "medical reviewer" not in page_text(client.get("/en/conditions/clonus/"))


def test_missing_translation_falls_back_to_english_and_says_so(client, demo):
    response = client.get("/ko/conditions/spasticity/")
    html = page_text(response)
    with translation.override("ko"):
        notice = translation.gettext(
            "This page has not been translated into %(language)s yet. You are reading the English version."
        ) % {"language": "한국어"}
    assert "한국어" in notice and "English version" not in notice
    assert notice in html
    assert "velocity-dependent increase in muscle tone" in html  # English fallback content
    assert "<h1>" + translations()["ko"]["condition.spasticity.name"] + "</h1>" in html


def test_fully_translated_english_page_has_no_translation_notice(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    assert 'class="notice"' not in html


def test_draft_condition_is_not_public(client):
    draft = make_condition(status=ConditionStatus.DRAFT, slug="secret-draft", name_en="Secret draft")
    assert client.get(f"/en/conditions/{draft.slug}/").status_code == 404
    assert "Secret draft" not in page_text(client.get("/en/conditions/"))
    assert "Secret draft" not in page_text(client.get("/en/conditions/?q=secret"))


def test_unknown_condition_is_404_in_page_language(client):
    response = client.get("/ko/conditions/no-such-condition/")
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in page_text(response)


def test_jsonld_describes_the_clonus_page(client, demo):
    html = page_text(client.get("/en/conditions/clonus/"))
    [data] = jsonld_blocks(html)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == "2026-11-20"
    assert data["reviewedBy"]["name"] == demo.reviewer_name
    about = data["about"]
    assert about["@type"] == "MedicalSign"
    assert about["name"] == "Clonus"
    assert {"@type": "MedicalSymptom", "name": "Involuntary rhythmic jerking"} in about["signOrSymptom"]
    assert [cause["name"] for cause in about["cause"]][:3] == [
        "Stroke",
        "Multiple sclerosis",
        "Spinal cord injury",
    ]
    assert "possibleCause" not in about
    assert {"@type": "MedicalTherapy", "name": "Intrathecal baclofen pump"} in about["possibleTreatment"]
    assert {"@type": "MedicalSpecialty", "name": "Neurology"} in about["relevantSpecialty"]


def test_jsonld_types_other_conditions_as_medical_condition_in_page_language(client, demo):
    [data] = jsonld_blocks(page_text(client.get("/ja/conditions/spasticity/")))
    assert data["about"]["@type"] == "MedicalCondition"
    assert data["inLanguage"] == "ja"
    [clonus] = jsonld_blocks(page_text(client.get("/ja/conditions/clonus/")))
    assert clonus["about"]["name"] == "クローヌス"


def test_condition_page_has_localized_description_and_canonical(client, demo):
    html = page_text(client.get("/ru/conditions/clonus/"))
    summary = translations()["ru"]["condition.clonus.summary"]
    assert f'<meta name="description" content="{summary}">' in html
    assert '<link rel="canonical" href="http://testserver/ru/conditions/clonus/">' in html
    assert '<link rel="alternate" hreflang="ar" href="http://testserver/ar/conditions/clonus/">' in html


@pytest.mark.parametrize("size", [1, 25])
def test_condition_page_query_count_is_constant(client, django_assert_num_queries, size):
    condition = make_condition(symptoms=size, causes=size, treatments=size)
    # condition, specialties, items, treatments (+ treatment), references, translation reviews,
    # the (empty) matching clinics, and the conditions offered in the request form
    with django_assert_num_queries(8):
        response = client.get(f"/en/conditions/{condition.slug}/")
    assert response.status_code == 200
    assert page_text(response).count("Symptom ") >= size


@pytest.mark.parametrize("size", [1, 30])
def test_condition_list_query_count_is_constant(client, django_assert_num_queries, size):
    for _ in range(size):
        make_condition()
    with django_assert_num_queries(1):
        response = client.get("/en/conditions/")
    assert page_text(response).count('class="card"') == size


@pytest.mark.parametrize(
    "query",
    [
        "clonus",
        "CLONUS",
        "클로누스",
        "クローヌス",
        "ｸﾛｰﾇｽ",
        "阵挛",
        "клонус",
        "КЛОНУС",
        "الرمع",
        "ankle clonus",
    ],
)
def test_search_finds_clonus_in_every_script(client, demo, query):
    assert list(Condition.objects.published().search(query).values_list("slug", flat=True)) == ["clonus"]
    html = page_text(client.get("/en/conditions/", {"q": query}))
    assert 'href="/en/conditions/clonus/"' in html


def test_search_matches_synonyms_and_needs_every_term(demo):
    assert list(Condition.objects.search("hypertonia").values_list("slug", flat=True)) == ["spasticity"]
    assert list(Condition.objects.search("spasticite").values_list("slug", flat=True)) == []
    assert list(Condition.objects.search("ankle nothing").values_list("slug", flat=True)) == []


def test_search_with_no_match_says_so_in_page_language(client, demo):
    html = page_text(client.get("/ko/conditions/", {"q": "zzzz"}))
    with translation.override("ko"):
        message = translation.gettext(
            "No condition matches your search. Try another word, or a name in another language."
        )
    assert message in html
    assert 'href="/ko/conditions/clonus/"' not in html


def test_condition_list_shows_published_conditions_in_page_language(client, demo):
    html = page_text(client.get("/zh-hans/conditions/"))
    assert "阵挛" in html
    assert 'href="/zh-hans/conditions/clonus/"' in html
    assert 'href="/zh-hans/conditions/spasticity/"' in html


def test_search_text_is_rebuilt_when_a_translation_changes(demo):
    demo.name_mn = "Шинэ нэр"
    demo.save()
    assert list(Condition.objects.search("шинэ").values_list("slug", flat=True)) == ["clonus"]


def test_due_for_review_lists_only_overdue_conditions(demo):
    overdue = list(
        Condition.objects.due_for_review(datetime.date(2026, 12, 1)).values_list("slug", flat=True)
    )
    assert overdue == ["stroke-rehabilitation"]
    assert Condition.objects.due_for_review(datetime.date(2028, 1, 1)).count() == 3


def test_demo_loader_is_idempotent(demo):
    counts = (Condition.objects.count(), demo.items.count(), demo.condition_treatments.count())
    load()
    assert (Condition.objects.count(), demo.items.count(), demo.condition_treatments.count()) == counts


@pytest.mark.parametrize(
    ("language", "separator"), [("en", ", "), ("ar", "، "), ("ja", "、"), ("zh-hans", "、")]
)
def test_lists_use_the_separator_of_the_page_language(client, language, separator):
    load()
    with translation.override(language):
        synonyms = Condition.objects.get(slug="clonus").synonyms
    assert len(synonyms) > 1
    page = unescape(client.get(f"/{language}/conditions/clonus/").content.decode())
    page = page.replace("<bdi>", "").replace("</bdi>", "")  # right to left: each item isolated
    assert separator.join(synonyms) in page
    if separator != ", ":
        assert ", ".join(synonyms) not in page


@pytest.mark.parametrize("language", ["en", "ru", "ar"])
def test_a_page_past_its_review_date_says_the_review_is_overdue(client, language):
    load()
    overdue_message = "This page's medical review is overdue: it was due on"
    Condition.objects.filter(slug="clonus").update(
        next_review_due=datetime.date.today() + datetime.timedelta(days=30)
    )
    with translation.override(language):
        expected = translation.gettext(
            "This page's medical review is overdue: it was due on %(due)s. The content may not reflect the "
            "latest guidance; please check with a doctor."
        ).split("%(due)s")[0]
    assert unescape(expected) not in unescape(client.get(f"/{language}/conditions/clonus/").content.decode())
    Condition.objects.filter(slug="clonus").update(next_review_due=datetime.date(2025, 1, 31))
    page = unescape(client.get(f"/{language}/conditions/clonus/").content.decode())
    assert expected in page
    if language != "en":
        assert overdue_message not in page
