"""A held session's models share one set of "fields set" per class (sio_server/domain/model.py, HeldModel)."""

from __future__ import annotations

import gc
import tracemalloc

from sio_server.domain.model import Event, InterviewConfig, Session, Turn
from sio_server.interview import logic


def held_session() -> Session:
    config = InterviewConfig.model_validate({"language": "en", "mode": "text", "max_questions": 5, "job_title": "Backend"})
    session = logic.new_session(config, token_hash="0" * 64, mode="text")
    logic.add_question(session, "Tell me about a project you are proud of and what you did in it?", fallback=False)
    session.version = 1
    return Session.model_validate_json(session.model_dump_json())  # as a resume reads it from the store


def test_every_instance_shares_its_classes_set_and_setting_a_field_leaves_it_alone():
    a, b = held_session(), held_session()
    for x, y in ((a, b), (a.config, b.config), (a.turns[0], b.turns[0]), (a.events[0], b.events[0])):
        assert x.__pydantic_fields_set__ is y.__pydantic_fields_set__
        assert x.model_fields_set == set(type(x).model_fields)
    before = set(a.__pydantic_fields_set__)
    a.end_reason = "changed"
    a.turns[0].answer = "an answer"
    assert a.__pydantic_fields_set__ == before and b.end_reason is None and b.turns[0].answer is None
    copy = a.model_copy(update={"version": 7})
    assert copy.version == 7 and a.version == 1 and a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    assert Session.model_validate_json(a.model_dump_json()).model_dump() == a.model_dump()
    for model in (Turn, Event, InterviewConfig):
        assert model.model_post_init is Session.model_post_init  # the held models, all four


def test_a_held_sessions_models_take_at_most_3_kb():
    """5.1 KB a session before, 2.4 KB of it the per-instance sets (issue 23); 2.7 KB after."""
    held_session()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        kept = [held_session() for _ in range(200)]
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    per_session = sum(s.size_diff for s in after.compare_to(before, "filename")) / len(kept)
    assert per_session <= 3000, per_session
