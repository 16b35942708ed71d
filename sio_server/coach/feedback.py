"""The interview's feedback: per-question scores and comments, strengths, improvements and a summary.

Unanswered turns are left out of ``per_question`` but count as 0 in
``overall_score``. The closing turn is scored on its own terms and is left out
of the answer-quality strengths and improvements (length, structure, numbers).
"""

from __future__ import annotations

from ..domain.model import CategoryScores, Feedback, InterviewConfig, QuestionScore, Turn
from .analysis import AnswerFeatures, analyse_answer
from .data import Point, language_pack, tuning
from .job import JobProfile, job_profile
from .scorer import categories, comment_for, join_terms, mark_repeats, score

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
    """Strengths supported by answers that scored at least ``strength_score`` (at most three, best evidence first)."""
    table = language_pack(job.language).strengths
    floor = tuning().strength_score
    good = [f for f in feats if scores[f.index] >= floor]
    body = [f for f in good if f.closing is None and f.repeat_of is None and not f.stuffing and not f.off_topic]
    n = len([f for f in feats if f.closing is None])
    out: list[Point] = []
    with_metrics = [f for f in body if f.metrics]
    if with_metrics:
        out.append(_point(table, "metrics", n=n, k=len(with_metrics), m=with_metrics[0].metrics[0]))
    structured = [f for f in body if f.story_expected and not f.star_missing]
    if structured and len(structured) * 2 >= n:
        out.append(_point(table, "structure"))
    hits = list(dict.fromkeys(h for f in body for h in f.hits))
    if len(hits) >= 2:
        out.append(_point(table, "relevance", kws=join_terms(hits)))
    detailed = [f for f in body if 60 <= f.units <= tuning().long_answer_units]
    if detailed and len(detailed) * 2 >= n:
        out.append(_point(table, "detail"))
    if any(f.closing == "question" for f in good):
        out.append(_point(table, "closing_question"))
    if len(feats) == asked and asked >= 3 and sum(scores.values()) >= floor * asked:
        out.append(_point(table, "complete"))
    if not out and good:
        best = max(good, key=lambda f: (scores[f.index], -f.index))
        out.append(_point(table, "best", i=best.index, s=scores[best.index]))
    return out[:3]


Improvement = tuple[str, dict[str, object], list[int]]  # key, slots, the answers (question numbers) it is about


def _improvement_keys(feats: list[AnswerFeatures], scores: dict[int, int], asked: int, job: JobProfile) -> list[Improvement]:
    """The improvements the measurements call for, biggest gap first, with their slots and the answers concerned."""
    body = [f for f in feats if f.closing is None]
    n = max(1, len(body))
    refs = language_pack(job.language).questions
    out: list[Improvement] = []

    def add(key: str, about: list[AnswerFeatures], **slots: object) -> None:
        indices = [f.index for f in about]
        out.append((key, {"qs": refs(indices), **slots}, indices))

    repeats = [f for f in body if f.repeat_of is not None]
    if repeats:
        out.append(("repeated", {"i": repeats[0].index}, [repeats[0].index]))
    stuffed = [f for f in body if f.stuffing]
    if stuffed:
        add("stuffing", stuffed)
    drifted = [
        f
        for f in body
        if (f.off_topic or (f.loosely_related and scores[f.index] < tuning().strength_score))
        and not (f.stuffing or f.too_short or f.repeat_of)
    ]
    if drifted:
        add("off_topic", drifted, role=job.role)
    short = [f for f in body if f.too_short]
    if short and len(short) * 2 >= n:
        add("brief", short)
    no_result = [f for f in body if "result" in f.star_missing and not (f.too_short or f.off_topic)]
    if no_result and len(no_result) * 2 >= n:
        add("result", no_result)
    if body and not any(f.metrics for f in body):
        add("metrics", [])
    hit_keys = {h for f in body for h in f.hits}
    missing = [d for d in job.reference.values() if d not in hit_keys]
    if job.reference and len(hit_keys) < 2 and missing:
        add("relevance", [], kws=join_terms(missing))
    if asked > len(feats):
        add("unanswered", [], u=asked - len(feats))
    if any(f.too_long for f in body):
        add("long", [f for f in body if f.too_long])
    return out


def _improvements(feats: list[AnswerFeatures], scores: dict[int, int], asked: int, job: JobProfile) -> list[Point]:
    """Improvements supported by the measurements (at most three), always naming the weakest answer when it scored low."""
    table = language_pack(job.language).improvements
    chosen = _improvement_keys(feats, scores, asked, job)[:3]
    named = {i for *_, indices in chosen for i in indices}
    body = [f for f in feats if f.closing is None] or feats
    worst = min(body, key=lambda f: (scores[f.index], f.index)) if body else None
    if worst is not None and (not chosen or (scores[worst.index] < tuning().strength_score and worst.index not in named)):
        chosen.insert(min(1, len(chosen)), ("weakest", {"i": worst.index, "s": scores[worst.index]}, [worst.index]))
    return [_point(table, key, **slots) for key, slots, _ in chosen[:3]]


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
    per_question = [
        QuestionScore(index=f.index, score=scores[f.index], comment=comment_for(f, job), categories=categories(f, gamma))
        for f in feats
    ]
    asked = len(turns)
    planned = max(asked, config.max_questions)  # the count the report's header shows
    overall = round(sum(scores.values()) / max(asked, len(feats)))
    strengths = _strengths(feats, scores, asked, job)
    improvements = _improvements(feats, scores, asked, job)
    pack = language_pack(config.language)
    summary = (pack.summary if strengths else pack.summary_no_strength).format(
        answered=len(feats),
        asked=planned,
        role=job.role,
        overall=overall,
        band=pack.band(overall),
        strength=strengths[0].short if strengths else "",
        improvement=improvements[0].short,
    )
    return Feedback(
        overall_score=overall,
        summary=summary,
        strengths=[s.sentence for s in strengths],
        improvements=[i.sentence for i in improvements],
        per_question=per_question,
        fallback=False,
        categories=CategoryScores.overall([q.categories for q in per_question], max(asked, len(feats))),
    )

