"""Turn rules: idempotent and stale answers, pending steps, end and feedback."""

from __future__ import annotations

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.domain.model import Feedback, InterviewConfig, PendingStep, Status
from sio_server.interview import rules


def feedback() -> Feedback:
    return Feedback(overall_score=70, summary="ok", strengths=["a"], improvements=["b"], per_question=[])


def started(max_questions: int = 3):
    session = rules.new_session(InterviewConfig(max_questions=max_questions), token_hash="h", mode="text")
    event = rules.add_question(session, "Q1?", fallback=False)
    return session, event


def test_new_session_owes_the_first_question():
    session = rules.new_session(InterviewConfig(), token_hash="h", mode="text")
    assert session.pending is PendingStep.QUESTION
    assert session.status is Status.ACTIVE
    assert session.session_id.version == 4


def test_question_event_has_seq_and_clears_pending():
    session, event = started()
    assert event.seq == 1 and event.name == "question"
    assert event.data == {"seq": 1, "index": 1, "text": "Q1?", "is_last": False, "fallback": False}
    assert session.pending is None


def test_answer_makes_next_question_pending_and_is_idempotent():
    session, _ = started()
    first = rules.record_answer(session, 1, "my answer")
    assert not first.duplicate
    assert session.pending is PendingStep.QUESTION
    before = session.model_dump()
    again = rules.record_answer(session, 1, "a different text")
    assert again.duplicate
    assert session.model_dump() == before
    assert session.turns[0].answer == "my answer"


def test_answer_while_processing_is_busy_and_changes_nothing():
    session, _ = started()
    rules.record_answer(session, 1, "a")
    before = session.model_dump()
    with pytest.raises(InterviewError) as err:
        rules.record_answer(session, 2, "b")
    assert err.value.code == "busy"
    assert session.model_dump() == before


@pytest.mark.parametrize("index", [2, 5, 20])
def test_answer_to_another_question_is_stale(index):
    session, _ = started()
    before = session.model_dump()
    with pytest.raises(InterviewError) as err:
        rules.record_answer(session, index, "x")
    assert err.value.code == "stale_answer"
    assert session.model_dump() == before


def test_last_answer_makes_feedback_pending_then_ends():
    session, _ = started(max_questions=2)
    rules.record_answer(session, 1, "a")
    event = rules.add_question(session, "Q2?", fallback=True)
    assert event.data["is_last"] is True and event.data["fallback"] is True
    rules.record_answer(session, 2, "b")
    assert session.pending is PendingStep.FEEDBACK
    fb_event = rules.set_feedback(session, feedback())
    assert fb_event.seq == 3 and fb_event.data["session_id"] == session.id
    assert session.status is Status.ENDED and session.ended_at is not None and session.pending is None
    with pytest.raises(InterviewError) as err:
        rules.add_question(session, "Q3?", fallback=False)
    assert err.value.code == "no_pending_question"


def test_answer_after_end_is_refused_but_a_resent_answer_is_a_duplicate():
    session, _ = started(max_questions=1)
    rules.record_answer(session, 1, "a")
    rules.set_feedback(session, feedback())
    assert rules.record_answer(session, 1, "a").duplicate
    with pytest.raises(InterviewError) as err:
        rules.record_answer(session, 2, "b")
    assert err.value.code == "session_ended"


def test_pending_step_is_done_once():
    session, _ = started()
    rules.record_answer(session, 1, "a")
    rules.add_question(session, "Q2?", fallback=False)
    with pytest.raises(InterviewError):
        rules.add_question(session, "Q2 again?", fallback=False)
    assert [t.index for t in session.turns] == [1, 2]


def test_early_end_replaces_a_pending_question():
    session, _ = started()
    assert rules.request_end(session, "ended_by_candidate")
    assert session.pending is PendingStep.FEEDBACK
    assert not rules.request_end(session, "again")
    rules.set_feedback(session, feedback())
    assert session.end_reason == "ended_by_candidate"
    assert not rules.request_end(session, "after the end")


def test_events_after_and_history():
    session, _ = started(max_questions=2)
    rules.record_answer(session, 1, "a")
    rules.add_question(session, "Q2?", fallback=False)
    assert [e.seq for e in rules.events_after(session, 0)] == [1, 2]
    assert [e.seq for e in rules.events_after(session, 1)] == [2]
    assert rules.events_after(session, 5) == []
    assert rules.history(session) == [
        {"index": 1, "question": "Q1?", "answer": "a"},
        {"index": 2, "question": "Q2?", "answer": None},
    ]


def test_abandon_ends_without_feedback():
    session, _ = started()
    rules.abandon(session)
    assert session.status is Status.ENDED and session.end_reason == "abandoned" and session.feedback is None


def test_state_follows_the_session():
    session = rules.new_session(InterviewConfig(max_questions=1), token_hash="h", mode="text")
    assert rules.state_payload(session) == {"status": "processing"}
    rules.add_question(session, "Q1?", fallback=False)
    assert rules.state_payload(session) == {"status": "awaiting_answer"}
    rules.record_answer(session, 1, "a")
    assert rules.state_payload(session) == {"status": "processing"}
    rules.set_feedback(session, feedback())
    assert rules.state_payload(session) == {"status": "ended"}


def test_resume_sends_where_the_session_stands_then_the_missed_events_then_state():
    session, _ = started(max_questions=2)
    rules.record_answer(session, 1, "answer one")
    rules.add_question(session, "Q2?", fallback=True)
    sent = rules.resume_events(session, last_seq=1)
    assert [name for name, _ in sent] == ["session_resumed", "question", "state"]
    assert sent[0][1] == {
        "session_id": session.id,
        "status": "active",
        "mode": "text",
        "max_questions": 2,
        "history": [
            {"index": 1, "question": "Q1?", "answer": "answer one"},
            {"index": 2, "question": "Q2?", "answer": None},
        ],
        "last_seq": 2,
    }
    assert sent[1][1]["seq"] == 2 and sent[2][1] == {"status": "awaiting_answer"}
    rules.record_answer(session, 2, "answer two")
    rules.set_feedback(session, feedback())
    ended = rules.resume_events(session, last_seq=3)
    assert [name for name, _ in ended] == ["session_resumed"], "an ended session gets no state"



@pytest.mark.parametrize("turn_detection, audio_format", [("auto", "webm"), ("manual", "webm"), ("auto", "linear16")])
def test_a_voice_session_resumes_with_its_turn_detection(turn_detection, audio_format):
    """A reloaded page learns how answers end (it opens the microphone by itself when hands-free) and
    which audio to capture."""
    config = InterviewConfig(turn_detection=turn_detection, audio_format=audio_format)
    voice = rules.new_session(config, token_hash="h", mode="voice")
    assert rules.resume_payload(voice)["turn_detection"] == turn_detection
    assert rules.voice_turns_payload(voice) == {"turn_detection": turn_detection, "audio_format": audio_format}
    text = rules.new_session(config, token_hash="h", mode="text")
    assert "turn_detection" not in rules.resume_payload(text) and rules.voice_turns_payload(text) == {}