"""Search text that behaves the same on SQLite and PostgreSQL, in every script.

Each searchable object keeps one normalized text (all its language columns and synonyms). A query
is normalized the same way and matched with a plain ``contains`` per term, so no database-specific
folding, word splitting or collation is involved: Korean, Chinese and Japanese match inside words,
and width, case and accents are folded before the database sees anything.

When a query matches nothing, ``near_misses`` finds the closest objects and a corrected query
("Did you mean …?"). Candidates come from the query corrected towards a vocabulary (the names of
conditions and treatments patients misspell) and from similarity: trigram word similarity
(``pg_trgm``) on PostgreSQL, difflib over every row elsewhere (fine for the small tables of
development and tests). Both backends then rank the candidates by the same word-level difflib score,
so they agree. The corrected query is made of words of the closest object's own search text, so
following it finds at least that object.
"""

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar
from urllib.parse import urlencode

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connections, models
from django.db.models import F, Value
from django.db.models.functions import Concat

_M = TypeVar("_M", bound=models.Model)

# Japanese voicing marks change the word (ク/グ), so they survive the removal of combining marks.
KEEP_COMBINING = {"\u3099", "\u309a"}
_SPACE_OR_PUNCT = re.compile(r"[\s\-‐‑–—_/.,;:!?()\[\]{}\"'«»“”‘’、。，・]+")
# Letters with a stroke do not decompose, but patients type them without it (Vietnamese "dot quy").
_FOLD = str.maketrans({"đ": "d"})
# Chinese and Japanese write words without spaces: similarity also looks inside such words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Scripts whose two-character pieces carry meaning: a term run together ("中风康复", "발목떨림") can be
# split into pieces the text holds.
_SYLLABIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")

# A word this close (difflib ratio, Hangul compared letter by letter) counts as a misspelling of it.
SIMILAR_WORD_CUTOFF = 0.75
# Share of the query's terms (found or misspelt) an object needs to be offered as a near miss.
NEAR_MISS_MIN_SCORE = 0.5
# PostgreSQL: the least trigram word similarity of a near miss.
NEAR_MISS_MIN_TRIGRAM_SIMILARITY = 0.3


def normalize(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(
        char for char in decomposed if not unicodedata.combining(char) or char in KEEP_COMBINING
    )
    text = unicodedata.normalize("NFC", stripped)
    return _SPACE_OR_PUNCT.sub(" ", text).strip()


def search_terms(query: str | None, limit: int = 8) -> list[str]:
    """The normalized terms of a query; at most ``limit`` so a long query cannot make a huge SQL."""
    return [term for term in normalize(query).split(" ") if term][:limit]


def words(text: str) -> set[str]:
    """The words of a normalized text; for Chinese and Japanese also their pieces of 2 to 4 characters."""
    result: set[str] = set()
    for word in text.split():
        result.add(word)
        if _UNSPACED.search(word):
            for size in (2, 3, 4):
                result.update(word[start : start + size] for start in range(len(word) - size + 1))
    return result


def display_words(texts: Iterable[str | None]) -> dict[str, str]:
    """{normalized word: how it is written} for the words of these texts (for "Did you mean …?")."""
    result: dict[str, str] = {}
    for text in texts:
        for piece in _SPACE_OR_PUNCT.split(unicodedata.normalize("NFKC", text or "")):
            key = normalize(piece)
            if key and " " not in key:
                result.setdefault(key, piece if piece.isupper() and len(piece) > 1 else piece.lower())
    return result


def _letters(word: str) -> str:
    # Hangul syllables decompose into their letters, so 클로너스/클로누스 differ by one letter, not one
    # syllable in four.
    return unicodedata.normalize("NFD", word)


def close_words(
    term: str, vocabulary: Iterable[str], *, cutoff: float = SIMILAR_WORD_CUTOFF
) -> dict[str, float]:
    """{word: similarity} for the words of ``vocabulary`` that look like a misspelling of ``term``."""
    letters = _letters(term)
    if len(letters) < 3 and not _UNSPACED.search(term):
        return {}  # one or two Latin/Cyrillic/Arabic letters are close to too many words
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(letters)
    result: dict[str, float] = {}
    for word in vocabulary:
        matcher.set_seq1(_letters(word))
        if (
            matcher.real_quick_ratio() >= cutoff
            and matcher.quick_ratio() >= cutoff
            and (ratio := matcher.ratio()) >= cutoff
        ):
            result[word] = ratio
    return result


def _pieces_in(term: str, text: str) -> tuple[list[str], float]:
    """The longest pieces (two characters or more) of ``term`` that ``text`` contains, left to right,
    and the share of the term they cover."""
    pieces, covered, start = [], 0, 0
    while start < len(term):
        for end in range(len(term), start + 1, -1):
            if term[start:end] in text:
                pieces.append(term[start:end])
                covered += end - start
                start = end
                break
        else:
            start += 1
    return pieces, covered / len(term)


def _match(term: str, text: str, text_words: set[str], close: dict[str, float]) -> tuple[list[str], float]:
    """(the words of ``text`` standing for ``term``, how well: 0 to 1).

    The term itself when the text contains it (as the search matches); else its closest word among
    ``close`` ({word: similarity}, see ``close_words``) that the text has; else, for a term of Chinese,
    Japanese or Korean run together, the pieces the text contains when they cover most of it.
    """
    if term in text:
        return [term], 1.0
    best: tuple[list[str], float] = ([], 0.0)
    candidates = sorted(
        text_words & close.keys(), key=lambda word: (-close[word], abs(len(word) - len(term)), word)
    )
    if candidates:
        best = ([candidates[0]], close[candidates[0]])
    if len(term) >= 3 and _SYLLABIC.search(term):
        pieces, coverage = _pieces_in(term, text)
        if coverage >= SIMILAR_WORD_CUTOFF and coverage > best[1]:
            best = (pieces, coverage)
    return best


def rank_by_similarity(terms: list[str], rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, float]]:
    """[(key, score)] best first for ``rows`` of (key, normalized text); ties keep the rows' order.

    Each term scores as in ``_match``; the row's score is the mean weighted by the terms' lengths (so
    "at" found inside any word weighs little). Only rows scoring at least ``NEAR_MISS_MIN_SCORE``.
    """
    rows = [(key, text, words(text)) for key, text in rows]
    vocabulary = set().union(*(row_words for _key, _text, row_words in rows))
    close = {term: close_words(term, vocabulary) for term in terms}
    total = sum(len(term) for term in terms)
    scored = []
    for key, text, row_words in rows:
        score = sum(len(term) * _match(term, text, row_words, close[term])[1] for term in terms) / total
        if score >= NEAR_MISS_MIN_SCORE:
            scored.append((key, score))
    scored.sort(key=lambda row: -row[1])
    return scored


def corrected_query(query: str, text: str, display: dict[str, str] | None = None) -> str:
    """The query with each term missing from ``text`` replaced by the closest words of ``text``.

    "" when a term has nothing close there or nothing needed correcting. ``display`` maps normalized
    words to how they are written (accents, capitals of acronyms).
    """
    terms = search_terms(query)
    text_words = words(text)
    corrected: list[str] = []
    for term in terms:
        replacement, _score = _match(term, text, text_words, close_words(term, text_words))
        if not replacement:
            return ""
        corrected.extend(replacement)
    if corrected == terms:
        return ""
    display = display or {}
    return " ".join(display.get(word, word) for word in corrected)


@dataclass(frozen=True)
class NearMisses:
    """What a search that found nothing offers instead."""

    query: str
    suggestion: str = ""  # a corrected query ("Did you mean …?"), "" when there is none
    closest: Sequence[models.Model] = field(default_factory=list)  # the nearest objects, best first
    other_params: str = ""  # the page's other parameters (filters), urlencoded: the link keeps them

    def __bool__(self) -> bool:
        return bool(self.suggestion or self.closest)

    @property
    def suggestion_url(self) -> str:
        """The search for the suggestion, relative to the page (``?q=…``)."""
        query = urlencode({"q": self.suggestion})
        return f"?{query}&{self.other_params}" if self.other_params else f"?{query}"


def corrected_terms(terms: list[str], vocabulary: Iterable[str]) -> list[str]:
    """The terms with each one found in no word of ``vocabulary`` replaced by its closest words there
    (kept as it is when nothing is close: it may be a word of one object only, a street, a name)."""
    words = set(vocabulary)
    joined = " ".join(words)
    corrected: list[str] = []
    for term in terms:
        replacement, _score = _match(term, joined, words, close_words(term, words))
        corrected.extend(replacement or [term])
    return corrected


class SearchTextQuerySet(models.QuerySet[_M]):
    """For models with a normalized ``search_text``: every term of the query must appear in it.

    ``search_similarity_field`` is the short text near misses are looked for in by similarity (the
    whole search text, unless it grows too long to compare quickly across many rows).
    """

    search_similarity_field = "search_text"

    def search(self, query: str, *, use_index: bool = True) -> Self:
        """The objects whose search text holds every term of ``query``.

        ``use_index=False`` matches an expression no index answers, so that the terms are checked on
        the rows the rest of the query reads (an ordered index read that stops early, say) instead of
        being looked up in the trigram index for every object that holds them.
        """
        queryset = self
        field = "search_text"
        if not use_index:
            queryset = queryset.alias(
                search_text_unindexed=Concat(F("search_text"), Value(""), output_field=models.TextField())
            )
            field = "search_text_unindexed"
        for term in search_terms(query):
            queryset = queryset.filter(**{f"{field}__contains": term})
        return queryset

    def closest(self, query: str, limit: int = 5, vocabulary: dict[str, str] | None = None) -> list[_M]:
        """The objects nearest to a query that matches nothing exactly, best first.

        Candidates: the matches of the query corrected towards ``search_vocabulary`` (misspelt names
        of conditions and treatments), and the rows whose ``search_similarity_field`` is most similar
        (PostgreSQL: trigram word similarity; elsewhere difflib over every row, fine at their sizes).
        Both backends then rank the candidates by ``rank_by_similarity`` over their search texts, so
        they agree. A fixed number of queries whatever the table size.
        """
        terms = search_terms(query)
        if not terms:
            return []
        candidate_ids: list[Any] = []
        vocabulary = self.search_vocabulary() if vocabulary is None else vocabulary
        corrected = corrected_terms(terms, vocabulary)
        if corrected != terms:
            candidate_ids += (
                self.search(" ".join(corrected)).order_by("pk").values_list("pk", flat=True)[: limit * 4]
            )
        field = self.search_similarity_field
        if connections[self.db].vendor == "postgresql":
            joined = " ".join(terms)
            candidate_ids += (
                # The operator (``%>``) is what the trigram index answers; the session's threshold is
                # the one below (the database backend sets it).
                self.filter(**{f"{field}__trigram_word_similar": joined})
                .annotate(search_similarity=TrigramWordSimilarity(joined, field))
                .filter(search_similarity__gte=NEAR_MISS_MIN_TRIGRAM_SIMILARITY)
                .order_by("-search_similarity", "pk")
                .values_list("pk", flat=True)[: limit * 4]
            )
        else:
            similar = rank_by_similarity(terms, self.order_by("pk").values_list("pk", field))
            candidate_ids += [pk for pk, _score in similar[: limit * 4]]
        candidate_ids = list(dict.fromkeys(candidate_ids))
        if not candidate_ids:
            return []
        found = {obj.pk: obj for obj in self.filter(pk__in=candidate_ids)}
        ranked = rank_by_similarity(
            terms,
            [(pk, found[pk].search_text) for pk in candidate_ids if pk in found],  # type: ignore[attr-defined]
        )
        return [found[pk] for pk, _score in ranked[:limit]]

    def near_misses(self, query: str, limit: int = 5, other_params: str = "") -> NearMisses:
        """The closest objects and a corrected query that finds at least the first of them."""
        vocabulary = self.search_vocabulary()
        closest = self.closest(query, limit, vocabulary)
        suggestion = ""
        if closest:
            display = {**vocabulary, **self.search_written_words(closest)}
            for obj in closest:
                if suggestion := corrected_query(query, obj.search_text, display):  # type: ignore[attr-defined]
                    break
        return NearMisses(query=query, suggestion=suggestion, closest=closest, other_params=other_params)

    def search_vocabulary(self) -> dict[str, str]:
        """{normalized word: how it is written} for the words a misspelt query is corrected towards:
        the names patients misspell (conditions, treatments). Models override it."""
        return {}

    def search_written_words(self, objects: Iterable[_M]) -> dict[str, str]:
        """{normalized word: how it is written} for words of these objects beyond the vocabulary (their
        names), so that a suggestion shows them as written. Models override it."""
        return {}
