"""Turn rules of an interview: pure functions over :class:`Session`, no I/O.

Each function either changes the session and returns what should be emitted,
or raises :class:`InterviewError` and leaves it untouched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.errors import InterviewError
from ..domain.model import Event, Feedback, InterviewConfig, PendingStep, Session, Speaking, Status, Turn, utcnow


@dataclass(frozen=True)
class AnswerOutcome:
    """Result of :func:`record_answer`: ``duplicate`` when it was already recorded."""

    index: int
    duplicate: bool


def speaks_questions(config: InterviewConfig) -> bool:
    """Whether the questions are read aloud (TTS): as asked, else in a voice interview only.

    The requested mode decides the default, not the one in force: a voice interview that runs in
    text mode (no STT) still has its questions spoken.
    """
    return config.mode == "voice" if config.speak_questions is None else config.speak_questions


def new_session(config: InterviewConfig, token_hash: str, mode: str, now: datetime | None = None) -> Session:
    """Create an active session whose first question is owed (pending); ``speak_questions`` is stored decided."""
    now = now or utcnow()
    return Session(
        session_id=uuid.uuid4(),
        token_hash=token_hash,
        config=config.model_copy(update={"speak_questions": speaks_questions(config)}),
        mode=mode,
        created_at=now,
        updated_at=now,
        pending=PendingStep.QUESTION,
    )


def next_question_index(session: Session) -> int:
    """1-based index of the question to ask next."""
    return len(session.turns) + 1


def is_last_index(session: Session, index: int) -> bool:
    """Whether question ``index`` is the interview's last."""
    return index >= session.config.max_questions


def check_answer(session: Session, index: int) -> bool:
    """Whether an answer to ``index`` would be a duplicate; raises when it would be refused."""
    turn = next((t for t in session.turns if t.index == index), None)
    if turn is not None and turn.answer is not None:
        return True
    if session.status is Status.ENDED:
        raise InterviewError("session_ended", "the interview has ended")
    if session.pending is not None:
        raise InterviewError("busy", "the previous answer is still being processed")
    current = session.current_turn
    if turn is None or current is None or turn.index != current.index:
        raise InterviewError("stale_answer", f"question {index} is not the open question")
    return False


def record_answer(
    session: Session,
    index: int,
    text: str,
    now: datetime | None = None,
    timings: dict[str, float] | None = None,
    speaking: Speaking | None = None,
) -> AnswerOutcome:
    """Record the answer to question ``index`` (``speaking``: how a spoken answer was said, kept with the turn).

    Idempotent by index: an answer to a question that already has one is a
    duplicate and changes nothing. Otherwise the answer must be for the
    current, open question of an active session with no step in progress.
    Recording it makes the next question (or the feedback) pending.
    """
    if check_answer(session, index):
        return AnswerOutcome(index=index, duplicate=True)
    turn = session.turns[-1]
    now = now or utcnow()
    turn.answer = text
    turn.answered_at = now
    turn.timings.update(timings or {})
    turn.speaking = speaking
    session.pending = PendingStep.FEEDBACK if is_last_index(session, index) else PendingStep.QUESTION
    session.updated_at = now
    return AnswerOutcome(index=index, duplicate=False)


def append_event(session: Session, name: str, data: dict[str, Any]) -> Event:
    """Append a persisted outbound event with the next ``seq`` and return it."""
    event = Event(seq=session.last_seq + 1, name=name, data={"seq": session.last_seq + 1, **data})
    session.events.append(event)
    return event


def add_question(
    session: Session, text: str, fallback: bool, now: datetime | None = None, timings: dict[str, float] | None = None
) -> Event:
    """Ask the pending next question; returns its ``question`` event. ``timings`` are kept on the turn."""
    if session.pending is not PendingStep.QUESTION or session.status is not Status.ACTIVE:
        raise InterviewError("no_pending_question", "no question is owed")
    now = now or utcnow()
    index = next_question_index(session)
    session.turns.append(Turn(index=index, question=text, asked_at=now, fallback=fallback, timings=timings or {}))
    session.pending = None
    session.updated_at = now
    return append_event(
        session,
        "question",
        {"index": index, "text": text, "is_last": is_last_index(session, index), "fallback": fallback},
    )


def request_end(session: Session, reason: str, now: datetime | None = None) -> bool:
    """Make the feedback pending (ending early); False when already ended or owed."""
    if session.status is Status.ENDED or session.pending is PendingStep.FEEDBACK:
        return False
    session.pending = PendingStep.FEEDBACK
    session.end_reason = reason
    session.updated_at = now or utcnow()
    return True


def set_feedback(session: Session, feedback: Feedback, now: datetime | None = None) -> Event:
    """Store the owed feedback, end the session and return its ``feedback`` event."""
    if session.pending is not PendingStep.FEEDBACK:
        raise InterviewError("no_pending_feedback", "no feedback is owed")
    now = now or utcnow()
    session.feedback = feedback
    session.status = Status.ENDED
    session.ended_at = now
    session.end_reason = session.end_reason or "completed"
    session.pending = None
    session.updated_at = now
    return append_event(session, "feedback", {"session_id": session.id, **feedback.model_dump(mode="json")})


def abandon(session: Session, now: datetime | None = None) -> None:
    """End a session nobody touched for too long, without feedback."""
    now = now or utcnow()
    session.status = Status.ENDED
    session.pending = None
    session.ended_at = now
    session.end_reason = "abandoned"
    session.updated_at = now


def events_after(session: Session, last_seq: int) -> list[Event]:
    """Persisted events whose ``seq`` is greater than ``last_seq``, in order."""
    return [e for e in session.events if e.seq > last_seq]


def history(session: Session) -> list[dict[str, Any]]:
    """The conversation so far, for ``session_resumed``."""
    return [{"index": t.index, "question": t.question, "answer": t.answer} for t in session.turns]


def answered_turns(session: Session) -> tuple[Turn, ...]:
    """Turns that have an answer."""
    return tuple(t for t in session.turns if t.answer is not None)


def state_payload(session: Session) -> dict[str, Any]:
    """The ``state`` event for the session as it is: ``processing`` while a step is owed."""
    if session.status is Status.ENDED:
        return {"status": "ended"}
    return {"status": "processing" if session.pending is not None else "awaiting_answer"}


def resume_payload(session: Session) -> dict[str, Any]:
    """The ``session_resumed`` event: where the session stands and the conversation so far
    (a voice session's ``turn_detection`` too, so a reloaded page listens as before)."""
    return {
        "session_id": session.id,
        "status": session.status.value,
        "mode": session.mode,
        "max_questions": session.config.max_questions,
        "history": history(session),
        "last_seq": session.last_seq,
        **voice_turns_payload(session),
    }


def voice_turns_payload(session: Session) -> dict[str, Any]:
    """How a voice session's answers end (``turn_detection``, the one in force) and the audio the page
    sends (``audio_format``), for the start ack and ``session_resumed``."""
    if session.mode != "voice":
        return {}
    return {"turn_detection": session.config.turn_detection, "audio_format": session.config.audio_format}


def resume_events(session: Session, last_seq: int) -> list[tuple[str, dict[str, Any]]]:
    """What a resuming socket is sent, in order: ``session_resumed``, the missed events, then ``state`` while active."""
    sent: list[tuple[str, dict[str, Any]]] = [("session_resumed", resume_payload(session))]
    sent += [(event.name, event.data) for event in events_after(session, last_seq)]
    if session.status is Status.ACTIVE:
        sent.append(("state", state_payload(session)))
    return sent
