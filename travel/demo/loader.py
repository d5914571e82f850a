"""Demo content of the travel guide, written in every language (``guide.json``).

Only the English text counts as reviewed: the translations are loaded without a translation review,
so the page tells their readers that a medical reviewer has not checked them yet. Loading is
idempotent: the guide on the site and its sections (by anchor) are updated.
"""

import datetime
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from modeltranslation.utils import build_localized_fieldname

from travel.models import GuideSection, TravelGuide

GUIDE_FILE = Path(__file__).resolve().parent / "guide.json"


def _localized(texts: dict[str, dict[str, str]], field: str) -> dict[str, str]:
    """{column: text} of ``field`` in every language of the site."""
    return {
        build_localized_fieldname(field, code): texts.get(code, {}).get(field, "")
        for code, _name in settings.LANGUAGES
    }


def load() -> str:
    data: dict[str, Any] = json.loads(GUIDE_FILE.read_text(encoding="utf-8"))
    values: dict[str, Any] = {
        **_localized(data["text"], "title"),
        **_localized(data["text"], "summary"),
        **_localized(data["text"], "reviewer_credentials"),
        build_localized_fieldname("reviewer_name", settings.LANGUAGE_CODE): data["reviewer_name"],
        "last_reviewed": datetime.date.fromisoformat(data["last_reviewed"]),
        "next_review_due": datetime.date.fromisoformat(data["next_review_due"]),
        "is_published": True,
    }
    guide = TravelGuide.objects.published().first() or TravelGuide()
    for name, value in values.items():
        setattr(guide, name, value)
    guide.full_clean()
    guide.save()
    anchors = []
    for position, section in enumerate(data["sections"], start=1):
        anchors.append(section["anchor"])
        GuideSection.objects.update_or_create(
            guide=guide,
            anchor=section["anchor"],
            defaults={
                **_localized(section["text"], "heading"),
                **_localized(section["text"], "body"),
                "position": position,
            },
        )
    guide.sections.exclude(anchor__in=anchors).delete()
    return f"travel guide with {len(anchors)} sections in {len(data['text'])} languages"
