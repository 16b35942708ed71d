"""Keyword and term extraction for Korean and English text (no NLP dependencies).

Used by the offline interviewer to weave résumé / job-description / answer terms
into questions and to measure how well answers cover the job.

The approach is deliberately simple:

* tokens are runs of Latin letters (keeping ``+ # . - /`` inside tech names such
  as ``C++``, ``Node.js``, ``CI/CD``) or runs of Hangul;
* adjacent tokens are kept together as one *term* when they form a known phrase
  (``Spring Boot``, ``machine learning``, ``머신 러닝``, from ``lexicon.json``),
  a phrase passed in by the caller (n-grams of the job description, see
  :func:`job_phrases`), a run of capitalised names (``Black Friday``) or a
  mid-sentence name followed by a noun (``Dutch oven``);
* English stop words and common résumé verbs are dropped;
* Korean tokens lose a trailing particle (은/는/이/가/을/를/에서/으로 ...), tokens
  that look like verb or adjective forms (…습니다, …하는, …했고) are dropped, and
  only tokens of two or more Hangul characters are kept;
* the remaining terms are ranked by frequency plus bonuses for tech-looking
  forms and for capitalised words in the middle of a sentence.

The word tables live in ``lexicon.json`` (package data), loaded at first use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from .lexicon import lexicon

__all__ = [
    "extract_keywords",
    "has_hangul",
    "is_tech_term",
    "job_phrases",
    "keyword_set",
    "match_forms",
    "mentions",
    "normalize",
]

_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[.\-/][A-Za-z0-9]+)*[+#]*|[가-힣]+")
_HANGUL_RE = re.compile(r"[가-힣]")
_SENTENCE_BREAKS = set(".!?\n:;•*·|-–—>,")
_MAX_PHRASE = 4
_MAX_WORD = 40  # a longer "word" is noise (a pasted hash, a held key), never a keyword


@dataclass(frozen=True)
class _Token:
    """One word of a text: its form, where it is, and whether it starts a sentence."""

    form: str
    start: int
    end: int
    sentence_start: bool

    @property
    def latin(self) -> bool:
        return not has_hangul(self.form)


@dataclass
class _Candidate:
    """One distinct keyword seen in a text, with what was learnt about it."""

    display: str
    first: int
    count: int = 0
    tech: bool = False
    capitalised: bool = False
    latin_in_korean: bool = False

    @property
    def salient(self) -> bool:
        """Worth quoting back: a tech/proper name, a repeated word or a Korean noun."""
        return self.tech or self.capitalised or self.count >= 2 or has_hangul(self.display)

    @property
    def score(self) -> float:
        """Rank: frequency plus bonuses for tech-looking or proper-noun forms."""
        return (
            self.count
            + (3.0 if self.tech else 0.0)
            + (1.5 if self.capitalised else 0.0)
            + (1.0 if self.latin_in_korean else 0.0)
            + (0.5 if " " in self.display else 0.0)
            + min(len(self.display), 12) * 0.05
        )


def has_hangul(text: str) -> bool:
    """Whether ``text`` contains any Hangul syllable."""
    return bool(_HANGUL_RE.search(text))


def _strip_particle(token: str) -> str:
    """Remove one trailing Korean particle, keeping at least two characters.

    A particle of two or more syllables may leave a one-syllable noun (팀에서 -> 팀),
    but only when no particle leaves two (결과는 -> 결과, not 결).
    """
    particles = lexicon().ko_particles
    for particle in particles:
        if token.endswith(particle) and len(token) - len(particle) >= 2:
            return token[: -len(particle)]
    for particle in particles:
        if len(particle) >= 2 and token.endswith(particle) and len(token) > len(particle):
            return token[: -len(particle)]
    return token


def _key(forms: Iterable[str]) -> str:
    """The comparison key of a term: Latin words lower-cased and space-joined; Korean joined without spaces."""
    forms = list(forms)
    if any(has_hangul(f) for f in forms):
        forms[-1] = _strip_particle(forms[-1])
        return "".join(f.lower() for f in forms)
    return " ".join(f.lower() for f in forms)


def normalize(term: str) -> str:
    """The comparison key of a term (one word or several): lower case, Korean particle removed."""
    return _key(term.split()) if term.strip() else ""


@cache
def _phrase_keys() -> frozenset[str]:
    """Keys of the lexicon's known multi-word terms."""
    return frozenset(normalize(p) for p in lexicon().phrases)


def _is_sentence_start(text: str, start: int) -> bool:
    """Whether the token at ``start`` begins a sentence, line or bullet."""
    i = start - 1
    while i >= 0 and text[i] in " \t\"'([":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_BREAKS or text[i].isdigit()


def _tokens(text: str) -> list[_Token]:
    """Every word of ``text`` in order."""
    out = []
    for match in _TOKEN_RE.finditer(text):
        form = match.group().rstrip(".-/")
        if form:
            start = match.start()
            out.append(_Token(form, start, start + len(form), _is_sentence_start(text, start)))
    return out


def _is_tech(form: str) -> bool:
    """Whether a Latin token looks like a technology or product name."""
    key = form.lower()
    lex = lexicon()
    if key in lex.known_tech_keys:
        return key not in lex.ambiguous_tech or form[0].isupper()
    if any(ch in form for ch in "+#./") or any(ch.isdigit() for ch in form):
        return True
    inner_upper = any(ch.isupper() for ch in form[1:])
    return inner_upper and len(form) >= 2  # PostgreSQL, AWS, gRPC


def is_tech_term(term: str) -> bool:
    """Whether ``term`` (one word or several) is a technology name or a known technical phrase."""
    words = term.split()
    if not words:
        return False
    if len(words) > 1:
        return normalize(term) in _phrase_keys() or any(_is_tech(w) for w in words if not has_hangul(w))
    return normalize(term) in lexicon().ko_tech if has_hangul(term) else _is_tech(term)


def _looks_inflected(form: str) -> bool:
    """A lower-case English verb or adverb form (built, working, quickly)."""
    key = form.lower()
    return form[1:].islower() and len(key) > 4 and bool(re.search(r"(ed|ing|ly)$", key))


def _joins(text: str, a: _Token, b: _Token) -> bool:
    """Whether ``b`` follows ``a`` with only spaces between them."""
    gap = text[a.end : b.start]
    return 0 < len(gap) <= 2 and gap.strip(" \t") == ""


def _name_pair(a: _Token, b: _Token) -> bool:
    """``Black Friday``/``Spring Boot`` (two names) or ``Dutch oven`` (a name and a noun)."""
    stop = lexicon().en_stop
    if not (a.latin and b.latin and a.form[0].isupper()) or len(a.form) < 2 or a.form.lower() in stop:
        return False
    if b.form[0].isupper():
        return len(b.form) >= 2 and b.form.lower() not in stop
    if a.sentence_start or _is_tech(a.form) or a.form.lower() in lexicon().known_tech_keys:
        return False
    return len(b.form) >= 3 and b.form.lower() not in stop and not _looks_inflected(b.form)


def _merge(text: str, tokens: list[_Token], phrases: frozenset[str]) -> Iterator[tuple[list[_Token], bool]]:
    """Group tokens into terms; yield (tokens of the term, whether it is a known phrase)."""
    known = _phrase_keys() | phrases
    i = 0
    while i < len(tokens):
        run = [tokens[i]]
        while len(run) < _MAX_PHRASE and i + len(run) < len(tokens) and _joins(text, run[-1], tokens[i + len(run)]):
            run.append(tokens[i + len(run)])
        for size in range(len(run), 1, -1):
            if _key(t.form for t in run[:size]) in known:
                yield run[:size], True
                i += size
                break
        else:
            size = 1
            while (
                size < len(run) and _name_pair(run[size - 1], run[size]) and (size == 1 or run[size].form[0].isupper())
            ):
                size += 1
            yield run[:size], False
            i += size


def _latin_candidate(form: str, sentence_start: bool) -> tuple[str, bool, bool] | None:
    """Keep/drop decision for a Latin token: (key, tech, capitalised) or None."""
    if len(form) > _MAX_WORD:
        return None
    key = form.lower()
    tech = _is_tech(form)
    capitalised = form[0].isupper() and not sentence_start and not tech
    if tech:
        return key, True, False
    if len(form) < 3 or key in lexicon().en_stop or _looks_inflected(form):
        return None
    return key, False, capitalised


def _korean_candidate(form: str) -> str | None:
    """Keep/drop decision for a Hangul token: its key or None."""
    lex = lexicon()
    if len(form) > _MAX_WORD or form in lex.ko_stop or form in lex.ko_particles or form.endswith(lex.ko_verb_endings):
        return None
    key = _strip_particle(form)
    if len(key) < 2 or key in lex.ko_stop or key.endswith(lex.ko_verb_endings):
        return None
    return key


def _candidates(text: str, phrases: frozenset[str] = frozenset()) -> Iterator[tuple[str, str, int, bool, bool, bool]]:
    """Yield (key, display, position, tech, capitalised, latin_in_korean) per kept term."""
    korean_text = has_hangul(text)
    for run, known in _merge(text, _tokens(text), phrases):
        first = run[0]
        if len(run) > 1:
            forms = [t.form for t in run]
            if has_hangul(forms[-1]):
                forms[-1] = _strip_particle(forms[-1])
            display = text[first.start : run[-1].start] + forms[-1]
            tech = known or any(_is_tech(t.form) for t in run)
            yield _key(forms), display, first.start, tech, not tech, korean_text and first.latin
        elif has_hangul(first.form):
            key = _korean_candidate(first.form)
            if key is not None:
                yield key, key, first.start, key in lexicon().ko_tech, False, False
        else:
            decided = _latin_candidate(first.form, first.sentence_start)
            if decided is not None:
                key, tech, capitalised = decided
                display = lexicon().known_tech_keys.get(key, first.form) if tech else first.form
                yield key, display, first.start, tech, capitalised, korean_text


def _ranked(text: str, phrases: frozenset[str]) -> list[_Candidate]:
    """All kept terms of ``text``, best first (ties: first occurrence)."""
    seen: dict[str, _Candidate] = {}
    for key, display, pos, tech, capitalised, latin_in_korean in _candidates(text, phrases):
        cand = seen.get(key)
        if cand is None:
            cand = seen[key] = _Candidate(display=display, first=pos)
        elif capitalised and not cand.capitalised and not cand.tech:
            cand.display = display
        cand.count += 1
        cand.tech |= tech
        cand.capitalised |= capitalised
        cand.latin_in_korean |= latin_in_korean
    return sorted(seen.values(), key=lambda c: (-c.score, c.first))


def extract_keywords(
    text: str, limit: int = 10, *, salient_only: bool = False, phrases: frozenset[str] = frozenset()
) -> list[str]:
    """The ``limit`` best terms of ``text`` in display form, best first.

    ``salient_only`` drops one-off lower-case English words (worth quoting back
    to a candidate only when they are names, tech terms or repeated).
    ``phrases`` are extra multi-word term keys (see :func:`job_phrases`) kept whole.
    """
    if not text or limit <= 0:
        return []
    ranked = [c for c in _ranked(text, phrases) if c.salient or not salient_only]
    return [c.display for c in ranked[:limit]]


def _singular(word: str) -> str:
    """An English plural's singular, roughly (queries -> query, dashboards -> dashboard, class stays)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _match_form(form: str) -> str:
    """How one word is compared: English lower-case and singular, Korean without its particle.

    An ambiguous tech name keeps its capital (``Go`` the language, not "go").
    """
    if has_hangul(form):
        return _strip_particle(form)
    key = form.lower()
    if key in lexicon().ambiguous_tech and form[0].isupper():
        return form
    return _singular(key)


def match_forms(text: str) -> tuple[str, ...]:
    """The words of ``text`` in their compared form (see :func:`mentions`)."""
    return tuple(_match_form(t.form) for t in _tokens(text or ""))


def mentions(forms: tuple[str, ...], term: str) -> bool:
    """Whether a text (its :func:`match_forms`) names ``term``, whatever the case, plural, particle or spacing.

    "data analyst" names "Data Analyst", "dashboard" names "dashboards", "결제화면을"
    names "결제 화면".
    """
    parts = match_forms(term)
    target = "".join(parts)
    if not target:
        return False
    for i in range(len(forms)):
        joined = ""
        for form in forms[i : i + len(parts) + 1]:
            joined += form
            if joined == target:
                return True
            if len(joined) >= len(target):
                break
    return False


def keyword_set(text: str, phrases: frozenset[str] = frozenset()) -> set[str]:
    """Every kept term of ``text`` as a normalised key (for overlap checks)."""
    return {key for key, *_ in _candidates(text or "", phrases)}


def job_phrases(*texts: str) -> frozenset[str]:
    """Multi-word term keys that recur in ``texts`` (a job description, a résumé).

    A pair or triple of adjacent content words seen at least twice across the
    texts (``결제 시스템``, ``payment platform``) is a term of this job.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = _tokens(text or "")
        for i in range(len(tokens)):
            for size in (2, 3):
                run = tokens[i : i + size]
                if len(run) < size or not all(_joins(text, a, b) for a, b in pairwise(run)):
                    continue
                if any(_keep(t) is None for t in run):
                    continue
                counts[_key(t.form for t in run)] += 1
    return frozenset(key for key, n in counts.items() if n >= 2)


def _keep(token: _Token) -> str | None:
    """The token's key if it is a content word, else None."""
    if has_hangul(token.form):
        return _korean_candidate(token.form)
    decided = _latin_candidate(token.form, False)
    return decided[0] if decided else None
