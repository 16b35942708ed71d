"""Which question to ask next, like a human interviewer would.

1. question 1 is an opener (self-introduction and why this role, naming the job
   and the company when given); a one-question interview gets a "single"
   opener that also invites the candidate to make their case;
2. the last question is a closing question ("anything you'd like to ask us?");
3. questions in between follow an *agenda* of kinds chosen by the interview
   type (behavioural, technical or mixed, see ``tuning.json``), shuffled per
   interview; after a previous answer the interviewer may follow up instead:
   a very short answer always gets a request for the specifics (even after
   another follow-up, but not twice in a row), an off-topic one
   a request to connect it to the role, and a substantial one sometimes a
   question on its most relevant term (kept whole: "Spring Boot", "머신 러닝"),
   never asking for what the answer already gave (numbers, the result, the
   candidate's role). Difficulty sets how often and how deep follow-ups go and
   which template tiers are used.

Everything is seeded from a SHA-256 of the request, so the same request always
gives the same text. Templates already used are recognised in the turns by
their fixed text ("signature") and never reused.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..domain.model import InterviewConfig, Turn
from ..text.keywords import extract_keywords, is_tech_term
from .analysis import AnswerFeatures, analyse_answer, answer_units
from .data import DifficultyTuning, language_pack, tuning
from .feedback import measure
from .job import JobProfile, job_profile
from .relevance import content_stems
from .scorer import score
from .templates import (
    CLOSING,
    FAILURE,
    FOLLOWUP,
    FOLLOWUP_RELEVANCE,
    FOLLOWUP_SHORT,
    FOLLOWUPS,
    GENERAL,
    KEYWORD_SLOTS,
    NOT_AGENDA,
    OPENER,
    PROBLEM_SOLVING,
    RESUME,
    SINGLE,
    TECHNICAL,
    Template,
    detect_template,
    templates,
)

__all__ = ["next_question"]

# What a follow-up template asks for -> whether the answer already gave it.
_ALREADY_GIVEN = {
    "numbers": lambda f: bool(f.metrics),
    "result": lambda f: "result" in f.star,
    "role": lambda f: "task" in f.star,
}


def _seed(config: InterviewConfig, turns: Sequence[Turn], index: int, is_last: bool) -> int:
    """A stable seed from everything that shapes the question."""
    payload = json.dumps(
        [config.model_dump(mode="json"), index, is_last, [[t.question, t.answer] for t in turns]],
        ensure_ascii=False,
        sort_keys=True,
    )
    return int.from_bytes(hashlib.sha256(payload.encode("utf-8")).digest()[:8], "big")


@dataclass
class _Context:
    """What the planner knows about the interview so far."""

    config: InterviewConfig
    job: JobProfile
    level: DifficultyTuning
    previous: list[str]
    prev_kinds: list[str | None]
    used: set[Template]
    last_answer: str | None
    last: AnswerFeatures | None
    rng: random.Random
    warm: bool
    asked_text: str = field(init=False)

    def __post_init__(self) -> None:
        self.asked_text = " ".join(self.previous).lower()

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def persona(self) -> str:
        return self.config.persona

    def fresh(self, terms: Sequence[str]) -> list[str]:
        """Terms usable in this language and not yet mentioned in a question."""
        return [t for t in terms if t.lower() not in self.asked_text and self.job.usable(t)]


def _context(config: InterviewConfig, turns: Sequence[Turn], index: int, is_last: bool) -> _Context:
    """Build the planner's view of the interview."""
    language = config.language
    level = tuning().difficulties[config.difficulty]
    job = job_profile(config)
    detected = [detect_template(language, t.question) for t in turns]
    last = turns[-1] if turns else None
    last_answer = last.answer.strip() if last and last.answer and last.answer.strip() else None
    features = None
    if last and last_answer:
        features = analyse_answer(last.index, last.question, last_answer, job, level.too_short_units)
    return _Context(
        warm=_going_well(config, turns, level),
        config=config,
        job=job,
        level=level,
        previous=[t.question for t in turns],
        prev_kinds=[t.kind if t else None for t in detected],
        used={t for t in detected if t},
        last_answer=last_answer,
        last=features,
        rng=random.Random(_seed(config, turns, index, is_last)),
    )


def _going_well(config: InterviewConfig, turns: Sequence[Turn], level: DifficultyTuning) -> bool:
    """Whether the last answer and the interview so far scored well enough to be praised."""
    feats = measure(config, tuple(turns))
    if not turns or not feats or feats[-1].index != turns[-1].index:
        return False
    scores = [score(f, level.score_gamma) for f in feats]
    return min(scores[-1], sum(scores) / len(turns)) >= tuning().warm_score


def _agenda(config: InterviewConfig) -> list[str]:
    """The interview's plan of middle-question kinds (stable per set-up)."""
    plan = tuning().interview_types[config.interview_type]
    rng = random.Random(_seed(config, (), 0, False))
    rest = list(plan.rest)
    rng.shuffle(rest)
    if config.persona == "challenging" and FAILURE in rest:  # probe failure early
        rest.remove(FAILURE)
        rest.insert(0, FAILURE)
    has_cv = config.resume_text.strip() or not config.job_description.strip()
    head = [RESUME, TECHNICAL] if has_cv else [TECHNICAL, RESUME]
    slots = {f"$head{i}": kind for i, kind in enumerate(head)} | {f"$rest{i}": kind for i, kind in enumerate(rest)}
    return [slots.get(kind, kind) for kind in plan.layout if not kind.startswith("$") or kind in slots]


def _followup_term(ctx: _Context) -> str | None:
    """The most relevant whole term of the last answer worth asking about, if any."""
    if not ctx.last_answer:
        return None
    terms = ctx.fresh(extract_keywords(ctx.last_answer, limit=8, salient_only=True, phrases=ctx.job.phrases))
    question = content_stems(ctx.previous[-1], ctx.language) if ctx.previous else frozenset()
    relevant = [t for t in terms if is_tech_term(t) or content_stems(t, ctx.language) & (ctx.job.stems | question)]
    return relevant[0] if relevant else None


def _slot_keyword(kind: str, ctx: _Context) -> str | None:
    """The term a {kw}/{phrase} slot would get for ``kind`` (None if none fits)."""
    if kind == RESUME:
        pool = ctx.fresh(ctx.job.cv_terms)[:2]
    elif kind in (TECHNICAL, PROBLEM_SOLVING):
        pool = ctx.fresh(ctx.job.jd_terms)[:2]
    elif kind == FOLLOWUP:
        term = _followup_term(ctx)
        pool = [term] if term else []
    else:
        pool = []
    return ctx.rng.choice(pool) if pool else None


def _by_tier(pool: list[Template], tiers: Sequence[str]) -> list[Template]:
    """The templates the difficulty allows, its preferred tier first when it has one."""
    allowed = [t for t in pool if t.tier in tiers] or pool
    if len(tiers) > 1 and tiers[0] == "advanced":
        return [t for t in allowed if t.tier == "advanced"] or allowed
    return allowed


def _candidates(kind: str, ctx: _Context, keyword: str | None) -> list[Template]:
    """Unused templates of ``kind`` that fit: slots fillable, nothing asked that was already said."""
    options = [t for t in templates(ctx.language, kind, ctx.persona) if t not in ctx.used]
    options = [t for t in options if ("company" not in t.slots or ctx.job.company) and (ctx.warm or not t.praise)]
    if kind in FOLLOWUPS and ctx.last is not None:
        last = ctx.last
        options = [t for t in options if not any(_ALREADY_GIVEN.get(a, lambda f: False)(last) for a in t.asks)]
    with_kw = [t for t in options if t.slots & KEYWORD_SLOTS]
    pool = with_kw if keyword and with_kw else [t for t in options if not t.slots & KEYWORD_SLOTS]
    with_company = [t for t in pool if "company" in t.slots]
    return _by_tier(with_company or pool, ctx.level.tiers)


def _render(kind: str, ctx: _Context) -> str | None:
    """Pick a fitting unused template of ``kind`` and fill it, or None if none fits."""
    keyword = _slot_keyword(kind, ctx)
    pool = _candidates(kind, ctx, keyword)
    if not pool:
        return None
    template = ctx.rng.choice(pool)
    return template.text.format(role=ctx.job.role, kw=keyword, phrase=keyword, company=ctx.job.company)


def _trailing_followups(kinds: Sequence[str | None]) -> int:
    """How many follow-ups in a row ended the interview so far."""
    count = 0
    for kind in reversed(kinds):
        if kind not in FOLLOWUPS:
            break
        count += 1
    return count


def _choose_kind(index: int, is_last: bool, ctx: _Context) -> str | None:
    """Opener/closing/follow-up when the situation calls for one, else None (use the agenda)."""
    if index <= 1:
        return SINGLE if is_last else OPENER
    if is_last:
        return CLOSING
    if ctx.last is None:
        return None
    if answer_units(ctx.last_answer or "", ctx.language) < tuning().short_answer_units:  # probed even after a follow-up
        return FOLLOWUP_SHORT if ctx.prev_kinds[-1:] != [FOLLOWUP_SHORT] else None
    if _trailing_followups(ctx.prev_kinds) >= ctx.level.followup_depth:
        return None
    if ctx.last.off_topic or ctx.last.stuffing:
        return FOLLOWUP_RELEVANCE
    rate = tuning().personas[ctx.persona].followup_rate * ctx.level.followup_factor
    return FOLLOWUP if ctx.rng.random() < rate else None


def _agenda_render(ctx: _Context) -> str:
    """The next agenda kind that still has a fitting template, rendered."""
    agenda = _agenda(ctx.config)
    done = sum(1 for kind in ctx.prev_kinds[1:] if kind not in NOT_AGENDA)
    start = done % len(agenda)
    spare = tuning().interview_types[ctx.config.interview_type].spare
    for kind in [*agenda[start:], *agenda[:start], *spare]:
        rendered = _render(kind, ctx)
        if rendered:
            return rendered
    # Every template is used (only possible with many vendor-free retries): reuse a general one.
    template = ctx.rng.choice([t for t in templates(ctx.language, GENERAL, ctx.persona) if "kw" not in t.slots])
    return template.text.format(role=ctx.job.role, company=ctx.job.company)


def _acknowledgement(index: int, ctx: _Context, kind: str | None) -> str:
    """A short persona-flavoured nod to a real, on-topic previous answer, or ''; warm only after a good one."""
    if index <= 1 or kind in (CLOSING, FOLLOWUP_SHORT, FOLLOWUP_RELEVANCE) or ctx.last is None:
        return ""
    if kind == FOLLOWUP and ctx.persona == "friendly":  # those templates already open warmly
        return ""
    if ctx.last.off_topic or ctx.last.stuffing:
        return ""
    if answer_units(ctx.last_answer or "", ctx.language) < tuning().short_answer_units:
        return ""
    if ctx.rng.random() >= tuning().personas[ctx.persona].ack_rate:
        return ""
    last_question = ctx.previous[-1] if ctx.previous else ""
    acks = language_pack(ctx.language).acks[ctx.config.persona]
    options = [a for a in (acks.warm if ctx.warm else acks.plain) if not last_question.startswith(a)]
    return ctx.rng.choice(options)


def next_question(config: InterviewConfig, turns: Sequence[Turn], index: int, is_last: bool) -> str:
    """The text of question ``index`` (1-based) after ``turns``; ``is_last`` asks for a closing question."""
    ctx = _context(config, turns, index, is_last)
    kind = _choose_kind(index, is_last, ctx)
    body = _render(kind, ctx) if kind else None
    if body is None:
        kind = None
        body = _agenda_render(ctx)
    ack = _acknowledgement(index, ctx, kind)
    text = (f"{ack} {body}" if ack else body).strip()
    return text if text[-1] in ".?!" else text + "?"
