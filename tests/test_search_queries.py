"""Real patient queries, in the eight languages, against the demo content through the real pages.

``search_queries.json`` lists each query with the page it should put first: a condition page on the
conditions list, or on the clinic directory a given clinic, any clinic treating a condition or any
clinic offering a treatment. A query that matches nothing exactly counts when its closest match
(shown under "Did you mean …?") is the expected page.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from clinics.models import Clinic
from conditions.models import Condition

pytestmark = pytest.mark.django_db

QUERIES = json.loads((Path(__file__).parent / "search_queries.json").read_text(encoding="utf-8"))
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# Queries quoted in issue 12 ("Search in the patient's words"): each must be in the set.
FROM_THE_ISSUE = {
    ("clinics", "clonus"),
    ("clinics", "botox"),
    ("clinics", "보톡스"),
    ("clinics", "ботокс"),
    ("conditions", "spasm"),
    ("conditions", "ankle jerking"),
    ("conditions", "clonis"),
    ("conditions", "судороги"),
    ("conditions", "дрожание стопы"),
    ("conditions", "抽搐"),
    ("conditions", "발목 떨림"),
    ("conditions", "جلطة"),
    ("conditions", "цус харвалт"),
}


def first_result(client, entry):
    """The slug of the first condition or clinic card the page shows, or None."""
    response = client.get(f"/{entry['language']}/{entry['page']}/", {"q": entry["query"]})
    assert response.status_code == 200
    attribute = "data-condition" if entry["page"] == "conditions" else "data-clinic"
    found = re.search(rf'{attribute}="([^"]+)"', response.content.decode())
    return found.group(1) if found else None


def acceptable(expected):
    """The slugs that count as the right first result."""
    published = Clinic.objects.published()
    if "condition" in expected:
        return {expected["condition"]}
    if "clinic" in expected:
        return {expected["clinic"]}
    if "treating" in expected:
        clinics = published.treating(Condition.objects.get(slug=expected["treating"]))
    else:
        clinics = published.offering(expected["offering"])
    return set(clinics.values_list("slug", flat=True))


def test_query_set_covers_every_language_and_the_issue():
    per_language = Counter(entry["language"] for entry in QUERIES)
    assert len(QUERIES) >= 40
    assert [language for language in LANGUAGES if per_language[language] < 4] == []
    assert FROM_THE_ISSUE - {(entry["page"], entry["query"]) for entry in QUERIES} == set()
    assert {"typo", "everyday word", "brand name"} - {entry["kind"] for entry in QUERIES} == set()


def test_patient_queries_find_the_right_page_first(client, demo, capsys):
    misses = []
    found_per_language = Counter()
    for entry in QUERIES:
        expected = acceptable(entry["first"])
        assert expected, entry  # the expectation itself must name something in the demo content
        first = first_result(client, entry)
        if first in expected:
            found_per_language[entry["language"]] += 1
        else:
            misses.append((entry["language"], entry["page"], entry["query"], first, sorted(expected)[:3]))
    total = Counter(entry["language"] for entry in QUERIES)
    share = sum(found_per_language.values()) / len(QUERIES)
    with capsys.disabled():
        print(
            f"\nSearch in the patient's words: {sum(found_per_language.values())}/{len(QUERIES)} found first "
            f"({share:.0%}); "
            + ", ".join(
                f"{language} {found_per_language[language]}/{total[language]}" for language in LANGUAGES
            )
        )
    assert misses == []
    assert share == 1
