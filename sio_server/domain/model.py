"""The interview session: its settings, turns, event log and feedback.

Plain pydantic data with no I/O. The turn rules that change a session live in
:mod:`sio_server.interview.logic`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["ko", "en"]
Mode = Literal["voice", "text"]
Persona = Literal["professional", "friendly", "challenging"]
AudioFormat = Literal["webm", "linear16"]
InterviewType = Literal["behavioural", "technical", "mixed"]
Difficulty = Literal["easy", "medium", "hard"]
TurnDetection = Literal["manual", "auto"]


class HeldModel(BaseModel):
    """A model of which every held session keeps instances: all of them share one set of "fields set".

    pydantic gives each instance its own ``__pydantic_fields_set__`` (the fields given, for
    ``exclude_unset``): 216-728 bytes, about half of a held session's models (docs/benchmarks.md). Nothing
    here asks which fields were given, so every instance shares its class's set of all field names:
    setting an attribute adds a name already there (the set never changes), and ``model_copy`` copies it.
    ``tests/unit/test_model_memory.py`` holds both to that.
    """

    def model_post_init(self, context: Any, /) -> None:
        object.__setattr__(self, "__pydantic_fields_set__", _all_fields(type(self)))


_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


def _all_fields(cls: type[BaseModel]) -> set[str]:
    names = _ALL_FIELDS.get(cls)
    if names is None:
        names = _ALL_FIELDS[cls] = set(cls.model_fields)
    return names


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class Status(str, Enum):
    """Lifecycle of a session."""

    ACTIVE = "active"
    ENDED = "ended"


class PendingStep(str, Enum):
    """Work recorded as owed but not yet done (finished once after a restart)."""

    QUESTION = "question"
    FEEDBACK = "feedback"


class InterviewConfig(HeldModel):
    """What the candidate asked for when starting the interview."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: Language = "ko"
    mode: Mode = "voice"
    persona: Persona = "professional"
    job_title: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    interview_type: InterviewType = "mixed"
    difficulty: Difficulty = "medium"
    answer_time_limit_s: int | None = Field(default=None, ge=30, le=1800)
    job_description: str = Field(default="", max_length=20_000)
    resume_text: str = Field(default="", max_length=20_000)
    max_questions: int = Field(default=5, ge=1, le=20)
    audio_format: AudioFormat = "webm"
    turn_detection: TurnDetection = "auto"
    speak_questions: bool | None = None  # None: spoken in a voice interview, not in a text one (logic.speaks_questions)


class Turn(HeldModel):
    """One question and, once given, its answer."""

    index: int = Field(ge=1)
    question: str
    asked_at: datetime
    fallback: bool = False
    answer: str | None = None
    answered_at: datetime | None = None
    timings: dict[str, float] = Field(default_factory=dict)


class CategoryScores(BaseModel):
    """Scores 0-100 by category, the same four from the LLM and from the offline coach.

    ``relevance`` to the question and the role, ``structure`` (situation, action,
    result), ``evidence`` (specifics and numbers) and ``clarity``.
    """

    relevance: int = Field(ge=0, le=100)
    structure: int = Field(ge=0, le=100)
    evidence: int = Field(ge=0, le=100)
    clarity: int = Field(ge=0, le=100)

    @classmethod
    def overall(cls, answers: list[CategoryScores | None], asked: int) -> CategoryScores | None:
        """The interview's scores by category: the mean over the ``asked`` questions, an unanswered one counting 0.

        None when any answer has no categories (feedback older than issue 21).
        """
        if not answers or any(a is None for a in answers):
            return None
        names = cls.model_fields
        return cls(**{n: round(sum(getattr(a, n) for a in answers) / max(asked, len(answers))) for n in names})


class QuestionScore(BaseModel):
    """Score and comment for one answered question; ``categories`` is absent in feedback older than issue 21."""

    index: int = Field(ge=1)
    score: int = Field(ge=0, le=100)
    comment: str
    categories: CategoryScores | None = None


class Feedback(BaseModel):
    """The interview's final assessment."""

    overall_score: int = Field(ge=0, le=100)
    summary: str
    strengths: list[str]
    improvements: list[str]
    per_question: list[QuestionScore]
    fallback: bool = False
    categories: CategoryScores | None = None  # overall, by category (absent in older feedback)


class Event(HeldModel):
    """A persisted outbound event; replayed to a resuming client by ``seq``."""

    seq: int = Field(ge=1)
    name: str
    data: dict[str, Any]


class Session(HeldModel):
    """Everything the server keeps about one interview.

    ``token_hash`` is the SHA-256 of the resume token; the token itself is never
    stored. ``version`` increases by one on every save (optimistic concurrency).
    """

    session_id: uuid.UUID
    token_hash: str
    config: InterviewConfig
    status: Status = Status.ACTIVE
    mode: Mode = "text"
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    turns: list[Turn] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    feedback: Feedback | None = None
    pending: PendingStep | None = None
    version: int = 0

    @property
    def id(self) -> str:
        """The session id as canonical text."""
        return str(self.session_id)

    @property
    def last_seq(self) -> int:
        """The highest ``seq`` in the event log (0 when empty)."""
        return self.events[-1].seq if self.events else 0

    @property
    def current_turn(self) -> Turn | None:
        """The most recently asked question, if any."""
        return self.turns[-1] if self.turns else None


class SessionSummary(BaseModel):
    """The admin list's view of a session."""

    session_id: str
    status: Status
    language: Language
    mode: Mode
    questions_asked: int
    max_questions: int
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None

    @classmethod
    def of(cls, session: Session) -> "SessionSummary":
        """Summarise ``session``."""
        return cls(
            session_id=session.id,
            status=session.status,
            language=session.config.language,
            mode=session.mode,
            questions_asked=len(session.turns),
            max_questions=session.config.max_questions,
            created_at=session.created_at,
            updated_at=session.updated_at,
            ended_at=session.ended_at,
        )
