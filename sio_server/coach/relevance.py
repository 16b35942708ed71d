"""Lexical relevance: content words of a text, their overlap, and near-duplicate answers.

Words are compared by a crude stem (English: common suffix removed, first six
letters; Korean: particle and verb ending removed, first two syllables), after
dropping each language's function words and interview filler (``tell``,
``example``, ``말씀``, ``사례`` ...) listed in the language pack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..text.keywords import has_hangul, normalize
from ..text.lexicon import lexicon
from .data import language_pack

__all__ = ["content_stems", "covered", "similarity", "stem", "topic_stems", "word_tokens"]

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:[.\-'][A-Za-z0-9]+)*|[가-힣]+|\d+")
_EN_SUFFIXES = ("ing", "ed", "es", "s", "ly")


def word_tokens(text: str) -> list[str]:
    """Every word of ``text`` (Latin, Hangul or digits), in order."""
    return _WORD_RE.findall(text or "")


def _korean_stem(token: str) -> str:
    """A Korean word without its particle or verb ending, first two syllables."""
    word = normalize(token)
    for ending in lexicon().ko_verb_endings:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            word = word[: -len(ending)]
            break
    return word[:2]


def stem(token: str) -> str:
    """The comparison stem of one word."""
    if has_hangul(token):
        return _korean_stem(token)
    word = token.lower()
    for suffix in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= (3 if suffix == "s" else 4):
            word = word[: -len(suffix)]
            break
    return word[:6]


@lru_cache(maxsize=8)
def _skipped(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """Words (and their stems) that carry no topic: function words and interview filler of both languages."""
    words: set[str] = set(lexicon().ko_particles)
    for code in ("en", "ko"):
        pack = language_pack(code)
        words |= pack.function_words | pack.filler_words
    return frozenset(words), frozenset(stem(w) for w in words if len(w) >= 2 and w not in lexicon().ko_particles)


@lru_cache(maxsize=256)
def content_stems(text: str, language: str) -> frozenset[str]:
    """Stems of the content words of ``text`` (function words and interview filler dropped)."""
    words, stems_skipped = _skipped(language)
    stems = set()
    for token in word_tokens(text):
        if token.isdigit() or token.lower() in words or (not has_hangul(token) and len(token) < 3):
            continue
        s = stem(token)
        if len(s) >= 2 and s not in stems_skipped:
            stems.add(s)
    return frozenset(stems)


def topic_stems(kind: str | None, language: str) -> frozenset[str]:
    """The stems of the topic words of a question kind (empty for an unknown kind)."""
    words = language_pack(language).topics.get(kind or "", ())
    return frozenset(stem(w) for w in words)


def covered(answer: frozenset[str], reference: Iterable[str], enough: int) -> float:
    """How well ``answer`` covers ``reference``: shared stems / ``enough``, at most 1."""
    ref = frozenset(reference)
    if not ref:
        return 0.0
    return min(1.0, len(answer & ref) / max(1, min(enough, len(ref))))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two stem sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
