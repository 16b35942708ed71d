"""The interview session: its settings, turns, event log and feedback.

Plain pydantic data with no I/O. The turn rules that change a session live in
:mod:`sio_server.interview.rules`.
"""

from __future__ import annotations

import sys
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


class InterviewConfig(BaseModel):
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
    speak_questions: bool | None = None  # None: spoken in a voice interview, not in a text one (rules.speaks_questions)


class Speaking(BaseModel):
    """How a spoken answer was said (or, with ``answers`` > 1, all of an interview's spoken answers): measured, never scored.

    ``units`` are words (English) or syllables (Korean), as ``unit`` says; ``talk_s`` is the time spoken
    (first word to last with word timings, else the audio's length); ``rate_per_min`` and
    ``fillers_per_min`` are None when too little was said to tell; ``longest_pause_s`` is None when the
    speech-to-text vendor gave no word timings (``timed`` false). ``fillers_heard`` counts each filler
    heard, most frequent first. ``hints`` are plain-language advice, in the interview's language, for
    each figure outside its usual range.
    """

    answers: int = Field(default=1, ge=1)
    talk_s: float = Field(ge=0)
    units: int = Field(ge=0)
    unit: Literal["words", "syllables"]
    rate_per_min: float | None = None
    fillers: int = Field(default=0, ge=0)
    fillers_per_min: float | None = None
    fillers_heard: dict[str, int] = Field(default_factory=dict)
    longest_pause_s: float | None = None
    timed: bool = False
    time_limit_s: int | None = None
    hints: list[str] = Field(default_factory=list)


class Turn(BaseModel):
    """One question and, once given, its answer (``speaking``: how a spoken answer was said)."""

    index: int = Field(ge=1)
    question: str
    asked_at: datetime
    fallback: bool = False
    answer: str | None = None
    answered_at: datetime | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    speaking: Speaking | None = None


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
    """Score and comment for one answered question; ``categories`` is absent in feedback older than issue 21,
    ``speaking`` for a typed answer (it is the turn's, copied by the server, never part of the score)."""

    index: int = Field(ge=1)
    score: int = Field(ge=0, le=100)
    comment: str
    categories: CategoryScores | None = None
    speaking: Speaking | None = None


class Feedback(BaseModel):
    """The interview's final assessment."""

    overall_score: int = Field(ge=0, le=100)
    summary: str
    strengths: list[str]
    improvements: list[str]
    per_question: list[QuestionScore]
    fallback: bool = False
    categories: CategoryScores | None = None  # overall, by category (absent in older feedback)
    speaking: Speaking | None = None  # all the spoken answers together (None when none was spoken)


class Event(BaseModel):
    """A persisted outbound event; replayed to a resuming client by ``seq``."""

    seq: int = Field(ge=1)
    name: str
    data: dict[str, Any]


class Session(BaseModel):
    """Everything the server keeps about one interview.

    ``token_hash`` is the SHA-256 of the resume token; the token itself is never
    stored. ``client_key`` is a hash of the address that started the session
    (what the store quota counts per client), never the address itself. ``version`` increases by one on every save (optimistic concurrency).
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
    client_key: str | None = None

    @property
    def answered(self) -> bool:
        """Whether the candidate answered any question (a never-answered session is the quota's first to go)."""
        return any(turn.answer is not None for turn in self.turns)

    @property
    def id(self) -> str:
        """The session id as canonical text (interned: the maps and budgets that key on it share one string)."""
        return sys.intern(str(self.session_id))

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
