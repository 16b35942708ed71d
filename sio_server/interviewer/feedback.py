"""The interview's feedback: per-question scores and comments, strengths, improvements and a summary.

Unanswered turns are left out of ``per_question`` but count as 0 in
``overall_score``. The closing turn is scored on its own terms and is left out
of the answer-quality strengths and improvements (length, structure, numbers).
"""

from __future__ import annotations

from ..domain.model import Feedback, InterviewConfig, QuestionScore, Turn
from .analysis import AnswerFeatures, analyse_answer
from .data import Point, language_pack, tuning
from .job import JobProfile, job_profile
from .scorer import comment_for, join_terms, mark_repeats, score

__all__ = ["build_feedback", "measure"]


def measure(config: InterviewConfig, turns: tuple[Turn, ...]) -> list[AnswerFeatures]:
    """The measurements of every answered turn, repeats marked."""
    job = job_profile(config)
    short = tuning().difficulties[config.difficulty].too_short_units
    last = turns[-1].index if turns else 0
    feats = [
        analyse_answer(t.index, t.question, t.answer or "", job, short, is_last=t.index == last)
        for t in turns
        if t.answer and t.answer.strip()
    ]
    return mark_repeats(feats)


def _point(table: dict[str, Point], key: str, **slots: object) -> Point:
    point = table[key]
    return Point(sentence=point.sentence.format(**slots), short=point.short.format(**slots))


def _strengths(feats: list[AnswerFeatures], scores: dict[int, int], asked: int, job: JobProfile) -> list[Point]:
    """Strengths supported by the measurements (at most three, best evidence first)."""
    table = language_pack(job.language).strengths
    body = [f for f in feats if f.closing is None and f.repeat_of is None and not f.stuffing and not f.off_topic]
    n = len([f for f in feats if f.closing is None])
    out: list[Point] = []
    with_metrics = [f for f in body if f.metrics]
    if with_metrics:
        out.append(_point(table, "metrics", n=n, k=len(with_metrics), m=with_metrics[0].metrics[0]))
    structured = [f for f in body if len(f.star) >= 3 and "result" in f.star]
    if structured and len(structured) * 2 >= n:
        out.append(_point(table, "structure"))
    hits = list(dict.fromkeys(h for f in body for h in f.hits))
    if len(hits) >= 2:
        out.append(_point(table, "relevance", kws=join_terms(hits)))
    detailed = [f for f in body if 60 <= f.units <= tuning().long_answer_units]
    if detailed and len(detailed) * 2 >= n:
        out.append(_point(table, "detail"))
    if any(f.closing == "question" for f in feats):
        out.append(_point(table, "closing_question"))
    if len(feats) == asked and asked >= 3:
        out.append(_point(table, "complete"))
    if not out and feats:
        best = max(feats, key=lambda f: (scores[f.index], -f.index))
        out.append(_point(table, "best", i=best.index, s=scores[best.index]))
    return out[:3]


def _improvement_keys(feats: list[AnswerFeatures], asked: int, job: JobProfile) -> list[tuple[str, dict[str, object]]]:
    """The improvements the measurements call for, biggest gap first, with their slots."""
    body = [f for f in feats if f.closing is None]
    n = max(1, len(body))
    out: list[tuple[str, dict[str, object]]] = []
    repeats = [f for f in body if f.repeat_of is not None]
    if repeats:
        out.append(("repeated", {"i": repeats[0].index}))
    if any(f.stuffing for f in body):
        out.append(("stuffing", {}))
    if any(f.off_topic and not (f.stuffing or f.too_short or f.repeat_of) for f in body):
        out.append(("off_topic", {"role": job.role}))
    if body and sum(f.too_short for f in body) * 2 >= n:
        out.append(("brief", {}))
    if body and sum(f.story_expected and "result" not in f.star for f in body) * 2 >= n:
        out.append(("result", {}))
    if body and not any(f.metrics for f in body):
        out.append(("metrics", {}))
    hit_keys = {h for f in body for h in f.hits}
    missing = [d for d in job.reference.values() if d not in hit_keys]
    if job.reference and len(hit_keys) < 2 and missing:
        out.append(("relevance", {"kws": join_terms(missing)}))
    if asked > len(feats):
        out.append(("unanswered", {"u": asked - len(feats)}))
    if any(f.too_long for f in body):
        out.append(("long", {}))
    return out


def _improvements(feats: list[AnswerFeatures], scores: dict[int, int], asked: int, job: JobProfile) -> list[Point]:
    """Improvements supported by the measurements (at most three)."""
    table = language_pack(job.language).improvements
    out = [_point(table, key, **slots) for key, slots in _improvement_keys(feats, asked, job)]
    if not out and feats:
        worst = min(feats, key=lambda f: (scores[f.index], f.index))
        out.append(_point(table, "weakest", i=worst.index, s=scores[worst.index]))
    return out[:3]


def _empty_feedback(language: str) -> Feedback:
    """Feedback for an interview with no answers: score 0, nothing per question."""
    empty = language_pack(language).empty
    return Feedback(
        overall_score=0,
        summary=empty.summary,
        strengths=[empty.strength],
        improvements=[empty.improvement],
        per_question=[],
        fallback=False,
    )


def build_feedback(config: InterviewConfig, turns: tuple[Turn, ...]) -> Feedback:
    """Heuristic, deterministic feedback for an interview's turns."""
    feats = measure(config, turns)
    if not feats:
        return _empty_feedback(config.language)
    job = job_profile(config)
    gamma = tuning().difficulties[config.difficulty].score_gamma
    scores = {f.index: score(f, gamma) for f in feats}
    per_question = [QuestionScore(index=f.index, score=scores[f.index], comment=comment_for(f, job)) for f in feats]
    asked = len(turns)
    overall = round(sum(scores.values()) / max(asked, len(feats)))
    strengths = _strengths(feats, scores, asked, job)
    improvements = _improvements(feats, scores, asked, job)
    pack = language_pack(config.language)
    summary = pack.summary.format(
        answered=len(feats),
        asked=asked,
        role=job.role,
        overall=overall,
        band=pack.band(overall),
        strength=strengths[0].short,
        improvement=improvements[0].short,
    )
    return Feedback(
        overall_score=overall,
        summary=summary,
        strengths=[s.sentence for s in strengths],
        improvements=[i.sentence for i in improvements],
        per_question=per_question,
        fallback=False,
    )
