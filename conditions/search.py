"""Search text that behaves the same on SQLite and PostgreSQL, in every script.

Each searchable object keeps one normalized text (all its language columns and synonyms). A query
is normalized the same way and matched with a plain ``contains`` per term, so no database-specific
folding, word splitting or collation is involved: Korean, Chinese and Japanese match inside words,
and width, case and accents are folded before the database sees anything.
"""

import re
import unicodedata

from django.db import models

# Japanese voicing marks change the word (ク/グ), so they survive the removal of combining marks.
KEEP_COMBINING = {"\u3099", "\u309a"}
_SPACE_OR_PUNCT = re.compile(r"[\s\-‐‑–—_/.,;:!?()\[\]{}\"'«»“”‘’、。，・]+")


def normalize(text):
    text = unicodedata.normalize("NFKC", text or "").casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(
        char for char in decomposed if not unicodedata.combining(char) or char in KEEP_COMBINING
    )
    text = unicodedata.normalize("NFC", stripped)
    return _SPACE_OR_PUNCT.sub(" ", text).strip()


def search_terms(query, limit=8):
    """The normalized terms of a query; at most ``limit`` so a long query cannot make a huge SQL."""
    return [term for term in normalize(query).split(" ") if term][:limit]


class SearchTextQuerySet(models.QuerySet):
    """For models with a normalized ``search_text``: every term of the query must appear in it."""

    def search(self, query):
        queryset = self
        for term in search_terms(query):
            queryset = queryset.filter(search_text__contains=term)
        return queryset
