"""Pydantic models of every client payload, and the shapes of acks and errors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..domain.errors import InterviewError
from ..domain.model import InterviewConfig

NAMESPACE = "/interview"
M = TypeVar("M", bound=BaseModel)


def room_of(session_id: str) -> str:
    """The Socket.IO room of a session."""
    return f"session:{session_id}"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# C0 controls but tab and newlines, DEL and the C1 controls (U+0085 NEL, U+009B CSI…), lone surrogates,
# the bidi marks, embeddings, overrides and isolates (text that displays reversed or reordered),
# and the Unicode line and paragraph separators (they break log lines and JavaScript strings).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _no_control(value: str) -> str:
    """Refuse control characters (but tab and newlines), bidi controls, line separators and lone surrogates."""
    if _FORBIDDEN.search(value):
        raise ValueError("control characters are not allowed")
    return value


class StartInterview(InterviewConfig):
    """``start_interview``: the interview's settings (all optional)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("job_description", "resume_text")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _no_control(value)

    @field_validator("job_title", "company")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A one-line field: newlines, tabs and runs of spaces become one space (they would break the report's
        heading and list into new Markdown blocks)."""
        return " ".join(_no_control(value).split())

    def config(self) -> InterviewConfig:
        """The settings as the session stores them."""
        return InterviewConfig(**self.model_dump())


class AnswerText(_Payload):
    """``answer_text``: a typed answer to question ``index``."""

    index: int = Field(ge=1, le=20)
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the answer is blank")
        return _no_control(value)


class AnswerEnd(_Payload):
    """``answer_end``: the spoken answer to question ``index`` is complete."""

    index: int = Field(ge=1, le=20)


class Interrupt(_Payload):
    """``interrupt``: the candidate speaks over question ``index``'s audio (barge-in)."""

    index: int = Field(ge=1, le=20)


class EndInterview(_Payload):
    """``end_interview``: no fields."""


class ResumeAuth(BaseModel):
    """The Socket.IO ``auth`` object of a (re)connecting client."""

    model_config = ConfigDict(extra="ignore", strict=True)

    resume_token: str | None = Field(default=None, min_length=1, max_length=200)
    last_seq: int = Field(default=0, ge=0)


def parse(model: type[M], payload: Any) -> M:
    """Validate ``payload`` as ``model`` or raise ``invalid_payload``."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InterviewError("invalid_payload", f"expected an object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise InterviewError("invalid_payload", f"{where}: {first['msg']}") from None


def ok(**data: Any) -> dict[str, Any]:
    """A successful ack."""
    return {"ok": True, **data}


def fail(code: str, message: str) -> dict[str, Any]:
    """A failed ack."""
    return {"ok": False, "error": {"code": code, "message": message}}
