"""Measuring one answer: length, STAR structure, numbers, relevance, keyword stuffing, closing replies.

Nothing here scores; :mod:`sio_server.coach.scorer` turns these
measurements into a score and a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.keywords import keyword_set, match_forms, mentions
from .data import LanguagePack, language_pack, tuning
from .job import JobProfile
from .relevance import content_stems, covered, topic_stems, word_tokens
from .templates import CLOSING, detect_template

__all__ = ["AnswerFeatures", "analyse_answer", "answer_units", "metrics_in", "question_kind", "star_parts"]

OFF_TOPIC, PARTLY = 0.2, 0.45  # relevance below these is off-topic / only loosely related
STORY_PARTS = ("situation", "action", "result")  # a story needs these; the task is often implied by the situation
_SEPARATORS = re.compile(r"[,/;·•|\n]|\s-\s|\band\b")


MEASURED_PER_JOB = 256  # answers a job profile remembers (an interview has at most 20)


@dataclass(frozen=True)
class AnswerFeatures:
    """What was measured in one answer.

    ``relevance`` (0–1) combines the answer's overlap with the question (and
    its kind's topic words) and with the job's terms; ``hits`` are the job
    terms it names; ``closing`` is None except for the closing turn, where it
    is "question", "decline" or "statement"; ``repeat_of`` is the index of an
    earlier answer this one nearly duplicates.
    """

    index: int
    kind: str | None
    units: float
    star: frozenset[str]
    metrics: tuple[str, ...]
    hits: tuple[str, ...]
    has_reference: bool
    relevance: float
    stuffing: bool
    stems: frozenset[str]
    short_units: int
    closing: str | None = None
    repeat_of: int | None = None

    @property
    def too_short(self) -> bool:
        """Too brief to show a real example (the threshold depends on the difficulty)."""
        return self.units < self.short_units

    @property
    def too_long(self) -> bool:
        """Long enough to lose the listener."""
        return self.units > tuning().long_answer_units

    @property
    def story_expected(self) -> bool:
        """Whether the question asks for a story (STAR); an introduction or a motivation question does not."""
        return self.kind not in tuning().story_free_kinds

    @property
    def star_missing(self) -> tuple[str, ...]:
        """The parts a story needs that this answer left out (none when no story is expected)."""
        return tuple(p for p in STORY_PARTS if p not in self.star) if self.story_expected else ()

    @property
    def off_topic(self) -> bool:
        """Hardly related to the question or the job."""
        return self.relevance < OFF_TOPIC

    @property
    def loosely_related(self) -> bool:
        """Related, but not clearly."""
        return OFF_TOPIC <= self.relevance < PARTLY


def answer_units(text: str, language: str) -> float:
    """Answer length in roughly English-word units (a Korean eojeol counts 1.5)."""
    words = len(text.split())
    return words * 1.5 if language == "ko" else float(words)


def star_parts(answer: str, language: str) -> frozenset[str]:
    """Which of situation/task/action/result the answer shows markers of."""
    compiled = language_pack(language).star_res
    return frozenset(part for part, patterns in compiled.items() if any(p.search(answer) for p in patterns))


def metrics_in(answer: str) -> tuple[str, ...]:
    """The numbers-with-units of the answer without repeats, changes and impact (45%, 2x) first.

    A change is quoted as "before → after" (its result is the after figure, never
    the before one alone); a length of experience ("5 years", "6년차") is no metric.
    """
    table = tuning()
    taken: list[tuple[int, int]] = [m.span() for m in table.experience_re.finditer(answer)]
    changes: list[tuple[int, str]] = []
    for pattern in table.change_res:
        for m in pattern.finditer(answer):
            if not any(s < m.end() and m.start() < e for s, e in taken):
                taken.append(m.span())
                changes.append((m.start(), f"{m.group(1).strip()} → {m.group(2).strip()}"))
    single = [
        m.group().strip()
        for m in table.metric_re.finditer(answer)
        if not any(s < m.end() and m.start() < e for s, e in taken)
    ]
    impact = table.impact_re
    ranked = sorted(dict.fromkeys(single), key=lambda m: not impact.search(m))
    return tuple(dict.fromkeys([*(text for _, text in sorted(changes)), *ranked]))


def question_kind(question: str, language: str, is_last: bool = False) -> str | None:
    """The kind of question asked: from our template, or "closing" for an invitation to ask us."""
    template = detect_template(language, question)
    if template:
        return template.kind
    pack = language_pack(language)
    if is_last and any(re.search(p, question, re.IGNORECASE) for p in pack.closing.asks_us):
        return CLOSING
    return None


def closing_reply(answer: str, pack: LanguagePack) -> str:
    """How the candidate answered the closing invitation: "question", "decline" or "statement"."""
    if any(re.search(p, answer, re.IGNORECASE) for p in pack.closing.question):
        return "question"
    if any(re.search(p, answer, re.IGNORECASE) for p in pack.closing.decline):
        return "decline"
    return "statement"


def relevance(stems: frozenset[str], question: str, kind: str | None, job: JobProfile) -> float:
    """0–1: how much the answer talks about what was asked and about the job."""
    language = job.language
    asked = content_stems(question, language) | topic_stems(kind, language)
    to_question = covered(stems, asked, 3)
    if not job.stems or not asked:
        return covered(stems, job.stems, 3) if job.stems else to_question if asked else 1.0
    to_job = covered(stems, job.stems, 3)
    return 0.65 * max(to_question, to_job) + 0.35 * min(to_question, to_job)


def is_stuffing(answer: str, pack: LanguagePack, hits: int, terms: int) -> bool:
    """A list of terms without sentences: few function words / no predicate, many separators or job terms."""
    tokens = word_tokens(answer)
    if len(tokens) < 4:
        return False
    if pack.function_words:
        ratio = sum(t.lower() in pack.function_words for t in tokens) / len(tokens)
        sentence_like = ratio >= 0.12
    else:
        clauses = [c.strip() for c in re.split(r"[.!?\n]+", answer) if c.strip()]
        sentence_like = any(c.endswith(pack.sentence_endings) for c in clauses)
    separators = len(_SEPARATORS.findall(answer))
    list_like = separators >= max(3, len(tokens) // 4)
    density = hits / terms if terms else 0.0
    if not sentence_like and (list_like or density >= 0.5):
        return True
    return density >= 0.6 and separators >= max(4, len(tokens) // 3)


def analyse_answer(
    index: int, question: str, answer: str, job: JobProfile, short_units: int, is_last: bool = False
) -> AnswerFeatures:
    """Measure one answer to ``question`` in the interview about ``job`` (remembered by the job profile)."""
    key = (index, question, answer, short_units, is_last)
    known = job.measured.get(key)
    if isinstance(known, AnswerFeatures):
        return known
    if len(job.measured) >= MEASURED_PER_JOB:
        job.measured.clear()
    job.measured[key] = features = _analyse(index, question, answer, job, short_units, is_last)
    return features


def _analyse(index: int, question: str, answer: str, job: JobProfile, short_units: int, is_last: bool) -> AnswerFeatures:
    language = job.language
    pack = language_pack(language)
    kind = question_kind(question, language, is_last)
    answer_keys = keyword_set(answer, job.phrases)
    forms = match_forms(answer)
    hits = tuple(display for display in job.reference.values() if mentions(forms, display))
    stems = content_stems(answer, language)
    return AnswerFeatures(
        index=index,
        kind=kind,
        units=answer_units(answer, language),
        star=star_parts(answer, language),
        metrics=metrics_in(answer),
        hits=hits,
        has_reference=bool(job.reference),
        relevance=relevance(stems, question, kind, job),
        stuffing=is_stuffing(answer, pack, len(hits), len(answer_keys)),
        stems=stems,
        short_units=short_units,
        closing=closing_reply(answer, pack) if kind == CLOSING else None,
    )
