"""The offline interviewer's data: one language pack per language and the tuning table.

Both are JSON files shipped as package data (``languages/<code>.json`` and
``tuning.json``), read once at first use and validated with pydantic, so a typo
in a data file fails loudly at the first question instead of producing an odd one.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["LanguagePack", "Point", "TemplateItem", "Tuning", "language_pack", "tuning"]

Tier = Literal["core", "advanced"]
Persona = Literal["professional", "friendly", "challenging"]
KINDS = frozenset(
    [
        "opener",
        "single",
        "resume",
        "technical",
        "problem_solving",
        "conflict",
        "failure",
        "deadline",
        "leadership",
        "motivation",
        "general",
        "followup",
        "followup_short",
        "followup_relevance",
        "closing",
    ]
)
PERSONAS = ("professional", "friendly", "challenging")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TemplateItem(_Frozen):
    """One question template: its text (slots {role}, {kw}, {phrase}, {company}), tier and what it asks for.

    ``praise`` marks a template that praises the candidate ("you've done great!"):
    it is only asked after answers that scored well (see ``Tuning.warm_score``).
    """

    text: str = Field(min_length=8)
    tier: Tier = "core"
    asks: tuple[str, ...] = ()
    praise: bool = False


class Acks(_Frozen):
    """A persona's nods to the previous answer: ``warm`` ones after a good answer, ``plain`` (no praise) otherwise."""

    warm: tuple[str, ...] = Field(min_length=1)
    plain: tuple[str, ...] = Field(min_length=1)


class Point(_Frozen):
    """A strength or improvement: the full sentence and a short phrase for the summary."""

    sentence: str
    short: str


class Band(_Frozen):
    """An overall score from ``floor`` up is described as ``text``."""

    floor: int = Field(ge=0, le=100)
    text: str


class RolePhrases(_Frozen):
    """How questions name the job, with and without a title or a company."""

    generic: str
    titled: str
    generic_at_company: str
    titled_at_company: str


class ClosingMarkers(_Frozen):
    """Regular expressions for the closing turn: the interviewer's invitation and the candidate's reply."""

    asks_us: tuple[str, ...] = Field(min_length=1)
    decline: tuple[str, ...] = Field(min_length=1)
    question: tuple[str, ...] = Field(min_length=1)


class Comments(_Frozen):
    """Per-answer comment sentences: praise, gaps and closing-turn remarks."""

    good: dict[str, str]
    gap: dict[str, str]
    closing: dict[str, str]


class EmptyFeedback(_Frozen):
    """The feedback for an interview without a single answer."""

    summary: str
    strength: str
    improvement: str


class QuestionRefs(_Frozen):
    """How feedback names answers by question number: one ("question {i}", "{i}번") or several."""

    one: str
    many: str


class UsualSpeech(_Frozen):
    """The usual range of each speaking measure; a figure outside it gets a hint.

    ``rate`` is the usual pace (words or syllables a minute), ``fillers_per_min`` and
    ``longest_pause_s`` the most that is usual, ``limit_share`` the share of the answer's
    time limit from which an answer ran up to it; no hint under ``min_talk_s`` of speech.
    A word before a gap of ``pause_gap_s`` (or a comma) is "before a pause".
    """

    rate: tuple[int, int]
    fillers_per_min: float = Field(gt=0)
    longest_pause_s: float = Field(gt=0)
    limit_share: float = Field(gt=0, le=1)
    min_talk_s: float = Field(ge=0)
    pause_gap_s: float = Field(gt=0)


class SpeakingHints(_Frozen):
    """Plain-language hints for a figure outside the usual range (slots: {rate} {low} {high} {per_min}
    {examples} {pause} {talk} {limit} {count})."""

    fast: str
    slow: str
    fillers: str
    pause: str
    limit: str
    limit_some: str


class SpeakingPack(_Frozen):
    """How spoken answers are measured in one language: the unit of pace, the fillers, the usual ranges.

    ``fillers`` always count; ``fillers_before_pause`` ("like", "so", "그", "저") only right before a pause,
    where they fill it (elsewhere they are ordinary words). Phrases are lower case, words separated by one space.
    """

    unit: Literal["words", "syllables"]
    fillers: frozenset[str]
    fillers_before_pause: frozenset[str]
    usual: UsualSpeech
    hints: SpeakingHints


class LanguagePack(_Frozen):
    """Everything language-specific the interviewer says or listens for."""

    language: Literal["en", "ko"]
    role: RolePhrases
    banks: dict[str, dict[Persona, tuple[TemplateItem, ...]]]
    acks: dict[Persona, Acks]
    star_markers: dict[Literal["situation", "task", "action", "result"], tuple[str, ...]]
    star_parts: dict[Literal["situation", "task", "action", "result"], str]
    star_join: str
    function_words: frozenset[str]
    filler_words: frozenset[str]
    sentence_endings: tuple[str, ...]
    topics: dict[str, tuple[str, ...]]
    closing: ClosingMarkers
    comments: Comments
    bands: tuple[Band, ...] = Field(min_length=1)
    strengths: dict[str, Point]
    improvements: dict[str, Point]
    question_refs: QuestionRefs
    summary: str
    summary_no_strength: str
    empty: EmptyFeedback
    speaking: SpeakingPack

    @field_validator("banks")
    @classmethod
    def _every_kind_and_persona(cls, banks: dict[str, dict[str, tuple[TemplateItem, ...]]]) -> dict:
        if set(banks) != KINDS:
            raise ValueError(f"banks must have exactly the kinds {sorted(KINDS)}, got {sorted(banks)}")
        for kind, by_persona in banks.items():
            if set(by_persona) != set(PERSONAS) or not all(by_persona.values()):
                raise ValueError(f"bank {kind!r} needs templates for every persona")
        return banks

    @model_validator(mode="after")
    def _patterns_compile(self) -> LanguagePack:
        patterns = [*self.closing.asks_us, *self.closing.decline, *self.closing.question]
        patterns += [p for ps in self.star_markers.values() for p in ps]
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from exc
        return self

    @cached_property
    def star_res(self) -> dict[str, tuple[re.Pattern[str], ...]]:
        """The STAR markers compiled (case-insensitive)."""
        return {part: tuple(re.compile(p, re.IGNORECASE) for p in ps) for part, ps in self.star_markers.items()}

    def questions(self, indices: list[int]) -> str:
        """The question numbers ``indices`` as the feedback names them ("questions 2, 4", "2, 4번")."""
        numbers = ", ".join(str(i) for i in sorted(set(indices)))
        return (self.question_refs.one if len(set(indices)) == 1 else self.question_refs.many).format(i=numbers)

    def parts(self, parts: tuple[str, ...]) -> str:
        """STAR parts as the feedback names them ("the situation and your actions", "상황, 본인의 행동")."""
        return self.star_join.join(self.star_parts[p] for p in parts)  # type: ignore[index]

    def band(self, score: int) -> str:
        """How an overall score is described."""
        return next(
            (b.text for b in sorted(self.bands, key=lambda b: -b.floor) if score >= b.floor), self.bands[-1].text
        )


class PersonaTuning(_Frozen):
    """How often a persona acknowledges an answer and follows up on it."""

    ack_rate: float = Field(ge=0, le=1)
    followup_rate: float = Field(ge=0, le=1)


class DifficultyTuning(_Frozen):
    """What difficulty changes: follow-up rate and depth, bank tiers, and scoring strictness."""

    followup_factor: float = Field(ge=0, le=3)
    followup_depth: int = Field(ge=1, le=3)
    tiers: tuple[Tier, ...] = Field(min_length=1)
    too_short_units: int = Field(ge=1)
    score_gamma: float = Field(gt=0, le=3)


class InterviewPlan(_Frozen):
    """An interview type's agenda: ``layout`` names kinds, ``$headN``/``$restN`` slots filled per interview."""

    rest: tuple[str, ...] = Field(min_length=1)
    layout: tuple[str, ...] = Field(min_length=1)
    spare: tuple[str, ...] = Field(min_length=1)


class Tuning(_Frozen):
    """Language-independent numbers of the interviewer."""

    metric_pattern: str
    impact_pattern: str
    experience_pattern: str
    change_patterns: tuple[str, ...] = Field(min_length=1)
    story_free_kinds: frozenset[str]
    personas: dict[Persona, PersonaTuning]
    difficulties: dict[Literal["easy", "medium", "hard"], DifficultyTuning]
    interview_types: dict[Literal["behavioural", "technical", "mixed"], InterviewPlan]
    short_answer_units: int = Field(ge=1)
    warm_score: int = Field(ge=0, le=100)
    strength_score: int = Field(ge=0, le=100)
    long_answer_units: int = Field(ge=1)
    max_job_title: int = Field(ge=10)
    max_company: int = Field(ge=10)

    @cached_property
    def metric_re(self) -> re.Pattern[str]:
        """The compiled pattern of a number with a unit (45%, 3 months, 2M users, 두 배)."""
        return re.compile(self.metric_pattern, re.IGNORECASE)

    @cached_property
    def experience_re(self) -> re.Pattern[str]:
        """The compiled pattern of a length of experience ("5 years", "6년차"): a number that is not impact."""
        return re.compile(self.experience_pattern, re.IGNORECASE)

    @cached_property
    def change_res(self) -> tuple[re.Pattern[str], ...]:
        """Compiled patterns of a change ("from 850 ms to 120 ms", "3.2 s → 1.1 s", "30%에서 75%로"): groups before, after."""
        before = rf"(?:{self.metric_pattern}|\d[\d,.]*)"
        return tuple(
            re.compile(p.format(before=before, after=self.metric_pattern), re.IGNORECASE) for p in self.change_patterns
        )

    @cached_property
    def impact_re(self) -> re.Pattern[str]:
        """The compiled pattern of a metric that shows impact (a percentage, a multiple, a user count)."""
        return re.compile(self.impact_pattern, re.IGNORECASE)


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def language_pack(language: str) -> LanguagePack:
    """The validated language pack of ``language`` ("en" or "ko"), read once."""
    return LanguagePack.model_validate_json(_read(f"languages/{language}.json"))


@cache
def tuning() -> Tuning:
    """The validated tuning table, read once."""
    return Tuning.model_validate_json(_read("tuning.json"))
