"""Scoring one answer and saying why, in the interview's language.

An answer earns points for length, STAR structure, numbers and naming the
job's terms; the total is then scaled by its relevance to the question and the
job, capped for keyword stuffing and for repeating an earlier answer, and bent
by the difficulty (lenient when easy, strict when hard). The closing turn is
scored on its own terms: a polite "no questions" is fine, a thoughtful
question for the interviewer is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..domain.model import CategoryScores
from .analysis import PARTLY, STORY_PARTS, AnswerFeatures
from .data import language_pack, tuning
from .job import JobProfile
from .relevance import similarity

__all__ = ["categories", "comment_for", "join_terms", "mark_repeats", "score"]

REPEAT_SIMILARITY = 0.55  # Jaccard of content stems at or above this is "the same answer"
MIN_STEMS_FOR_REPEAT = 6
CLOSING_SCORES = {"question": 86, "decline": 72}


def join_terms(words: Sequence[str]) -> str:
    """Up to three terms as a comma-separated list."""
    return ", ".join(words[:3])


def mark_repeats(feats: Sequence[AnswerFeatures]) -> list[AnswerFeatures]:
    """The answers with ``repeat_of`` set where one nearly duplicates an earlier answer."""
    out: list[AnswerFeatures] = []
    for f in feats:
        earlier = [
            e
            for e in out
            if f.closing is None
            and e.closing is None
            and min(len(f.stems), len(e.stems)) >= MIN_STEMS_FOR_REPEAT
            and similarity(f.stems, e.stems) >= REPEAT_SIMILARITY
        ]
        out.append(replace(f, repeat_of=earlier[0].index) if earlier else f)
    return out


def _length_points(units: float) -> float:
    long = tuning().long_answer_units
    if units < 3:
        return 2.0
    if units < 60:
        return 5 + 30 * units / 60
    if units <= 250:
        return 35.0
    if units <= long:
        return 35 - 7 * (units - 250) / 100
    return 26.0


def _raw(f: AnswerFeatures) -> float:
    """0–100 before relevance: base 10, length ≤35, structure and metrics ≤35, job terms ≤20."""
    star = 6 * len(f.star) if f.story_expected or f.too_short else max(6 * len(f.star), 18)
    structure = star + (0, 7, 11)[min(len(f.metrics), 2)]
    terms = (4, 12, 16, 20)[min(len(f.hits), 3)] if f.has_reference else 12
    return 10 + _length_points(f.units) + structure + terms


def _closing_score(f: AnswerFeatures) -> float:
    if f.closing == "question":
        return CLOSING_SCORES["question"] + (8 if f.hits or f.relevance >= 0.45 else 0)
    if f.closing == "decline" and f.units < 30:
        return CLOSING_SCORES["decline"]
    return max(60.0, _raw(f))


def score(f: AnswerFeatures, gamma: float = 1.0) -> int:
    """0–100 for one answer; ``gamma`` > 1 is stricter (hard), < 1 more lenient (easy)."""
    if f.closing is not None:
        return max(0, min(100, round(_closing_score(f))))
    value = _raw(f) * (0.3 + 0.7 * min(1.0, f.relevance / 0.45))
    if f.stuffing:
        value = min(value, 25.0)
    if f.repeat_of is not None:
        value = min(value * 0.35, 30.0)
    value = 100 * (max(0.0, min(100.0, value)) / 100) ** gamma
    return max(0, min(100, round(value)))


def _curved(value: float, gamma: float) -> int:
    """0-100 bent by the difficulty like the score."""
    return max(0, min(100, round(100 * (max(0.0, min(100.0, value)) / 100) ** gamma)))


def categories(f: AnswerFeatures, gamma: float = 1.0) -> CategoryScores:
    """The answer's scores by category, from the same measurements as its score.

    relevance: overlap with the question and the job, and the job's terms named;
    structure: the story's parts present (situation, action, result), or for a
    question that asks no story, being developed rather than a fragment;
    evidence: numbers (a before → after change counts most), else detail;
    clarity: a readable length, not a list of keywords.
    The closing turn, judged on its own terms, gets its score in every category.
    """
    if f.closing is not None:
        value = score(f, gamma)
        return CategoryScores(relevance=value, structure=value, evidence=value, clarity=value)
    terms = min(len(f.hits), 3) / 3 if f.has_reference else 1.0
    relevance = 100 * min(1.0, f.relevance / PARTLY) * (0.75 + 0.25 * terms)
    if f.story_expected:
        structure = 100 * (len(STORY_PARTS) - len(f.star_missing)) / len(STORY_PARTS)
    else:
        structure = 85.0 if f.star else 70.0
    if any("→" in m for m in f.metrics):
        evidence = 100.0
    else:
        evidence = (40.0 if f.units >= 60 else 25.0, 75.0, 90.0)[min(len(f.metrics), 2)]
    clarity = 100 * _length_points(f.units) / 35
    if f.too_short:
        structure, evidence = (v * f.units / f.short_units for v in (structure, evidence))
    if f.stuffing:  # names the terms without answering
        relevance, structure, clarity = min(relevance, 40.0), min(structure, 15.0), min(clarity, 25.0)
    if f.repeat_of is not None:
        relevance = min(relevance, 30.0)
    values = {"relevance": relevance, "structure": structure, "evidence": evidence, "clarity": clarity}
    return CategoryScores(**{k: _curved(v, gamma) for k, v in values.items()})


def _closing_comment(f: AnswerFeatures, language: str) -> str:
    texts = language_pack(language).comments.closing
    if f.closing == "question":
        return texts["question_specific"].format(k=join_terms(f.hits)) if f.hits else texts["question"]
    if f.closing == "decline" and f.units < 30:
        return texts["decline"]
    return texts["statement"]


def _praise(f: AnswerFeatures, language: str) -> str | None:
    """One positive observation backed by a measurement, if any."""
    good = language_pack(language).comments.good
    if f.metrics:
        return good["metrics"].format(m=f.metrics[0])
    if f.story_expected and not f.star_missing:
        return good["structure"]
    if len(f.hits) >= 2:
        return good["relevance"].format(k=join_terms(f.hits))
    if 60 <= f.units <= tuning().long_answer_units:
        return good["detail"]
    return None


def _gap(f: AnswerFeatures, job: JobProfile) -> tuple[str, dict[str, object]]:
    """The most important thing to fix, with its slots."""
    missing = [d for d in job.reference.values() if d not in f.hits]
    if f.repeat_of is not None:
        return "repeated", {"i": f.repeat_of}
    if f.stuffing:
        return "stuffing", {"k": join_terms(f.hits or list(job.reference.values()))}
    if f.too_short:
        return "brief", {}
    if f.off_topic:
        return "off_topic", {"k": join_terms(missing)}
    if f.loosely_related:
        return "partly", {"k": join_terms(missing)}
    if f.star_missing == ("result",):
        return "result", {}
    if f.star_missing:
        return "structure", {"parts": language_pack(job.language).parts(f.star_missing)}
    if not f.metrics:
        return "metrics", {}
    if job.reference and not f.hits and missing:
        return "relevance", {"k": join_terms(missing)}
    if f.too_long:
        return "long", {}
    return "none", {}


def comment_for(f: AnswerFeatures, job: JobProfile) -> str:
    """Why the answer got its score: one strength (if any) and the most important gap, specifically."""
    language = job.language
    if f.closing is not None:
        return _closing_comment(f, language)
    gaps = language_pack(language).comments.gap
    key, slots = _gap(f, job)
    k = slots.get("k", "")
    hint = gaps["k_hint"].format(k=k) if k and key in ("off_topic", "partly") else ""
    gap_text = gaps[key].format(role=job.role, k_hint=hint, **slots)
    praise = None if key in ("repeated", "stuffing", "off_topic") else _praise(f, language)
    return f"{praise} {gap_text}" if praise else gap_text
