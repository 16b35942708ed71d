"""Socket.IO events against an in-process server on a real socket, with the real python-socketio client."""

from __future__ import annotations

import asyncio
import json

import pytest
import socketio

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.appkeys import METRICS, SERVICE
from tests.support.refusals import connect_error

NS = "/interview"


@pytest.fixture
async def app_server(aiohttp_server, settings):
    return await aiohttp_server(create_app(settings.model_copy(update={"audio_queue_chunks": 5})))


@pytest.fixture
async def raw(app_server):
    """A bare python-socketio client, to send what the adapter never would."""
    sio = socketio.AsyncClient(reconnection=False)
    events: list[tuple[str, object]] = []
    sio.on("*", lambda event, data=None: events.append((event, data)), namespace=NS)
    await sio.connect(str(app_server.make_url("/")), namespaces=[NS], transports=["websocket"])
    sio.received = events  # type: ignore[attr-defined]
    yield sio
    await sio.disconnect()


async def call(sio, event, *args):
    data = args[0] if len(args) == 1 else (tuple(args) if args else None)
    return await sio.call(event, data, namespace=NS, timeout=10)


def session_files(settings):
    folder = settings_path(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def settings_path(settings):
    from pathlib import Path

    return Path(settings.data_dir) / "sessions"


@pytest.mark.parametrize(
    "payload",
    [
        {"language": "fr"},
        {"mode": "video"},
        {"persona": "rude"},
        {"max_questions": 0},
        {"max_questions": 21},
        {"max_questions": "5"},
        {"max_questions": True},
        {"job_title": "x" * 201},
        {"job_description": "x" * 20_001},
        {"resume_text": ["a list"]},
        {"unexpected": 1},
        ["not", "an", "object"],
        "a string",
        42,
    ],
)
async def test_bad_start_payloads_are_refused_and_change_nothing(raw, settings, payload):
    ack = await call(raw, "start_interview", payload)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", ack
    assert session_files(settings) == []


async def test_answers_without_a_session(raw):
    for event, payload in (("answer_text", {"index": 1, "text": "hi"}), ("answer_end", {"index": 1}), ("end_interview", {})):
        ack = await call(raw, event, payload)
        assert ack == {"ok": False, "error": {"code": "no_session", "message": ack["error"]["message"]}}


async def test_answer_rules_over_the_socket(raw, app_server, settings):
    ack = await call(raw, "start_interview", {"language": "en", "mode": "text", "max_questions": 2})
    assert ack["ok"]
    sid = ack["session_id"]
    again = await call(raw, "start_interview", {})
    assert again["error"]["code"] == "already_in_session"
    for _ in range(200):
        if any(e == "question" for e, _ in raw.received):
            break
        await asyncio.sleep(0.02)
    before = (settings_path(settings) / f"{sid}.json").read_text()
    for payload, code in (
        ({"index": 2, "text": "early"}, "stale_answer"),
        ({"index": 1, "text": ""}, "invalid_payload"),
        ({"index": 1, "text": "   "}, "invalid_payload"),
        ({"index": 1, "text": "x" * 5001}, "invalid_payload"),
        ({"index": "1", "text": "x"}, "invalid_payload"),
        ({"index": 1, "text": b"bytes"}, "invalid_payload"),
        ({"index": 1, "text": "x", "extra": True}, "invalid_payload"),
        ({"index": 1}, "invalid_payload"),
    ):
        ack = await call(raw, "answer_text", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    assert (settings_path(settings) / f"{sid}.json").read_text() == before

    ack = await call(raw, "answer_end", {"index": 1})
    assert ack["error"]["code"] == "text_mode"
    ack = await call(raw, "answer_text", {"index": 1, "text": "real answer"})
    assert ack == {"ok": True, "index": 1, "duplicate": False}
    ack = await call(raw, "answer_text", {"index": 1, "text": "resent"})
    assert ack == {"ok": True, "index": 1, "duplicate": True}
    stored = json.loads((settings_path(settings) / f"{sid}.json").read_text())
    assert stored["turns"][0]["answer"] == "real answer"


async def test_unknown_event_is_refused_without_effect(raw, settings):
    ack = await call(raw, "drop_tables", {"x": 1})
    assert ack["error"]["code"] == "unknown_event"
    ack = await call(raw, "answer_text", {"index": 1, "text": "a"}, {"second": "arg"})
    assert ack["error"]["code"] == "invalid_payload"
    assert session_files(settings) == []


async def test_text_mode_refuses_audio_once_and_queues_none(raw, app_server):
    ack = await call(raw, "start_interview", {"mode": "text", "max_questions": 1})
    live = app_server.app[SERVICE].live[ack["session_id"]]
    for _ in range(12):
        await raw.emit("audio_chunk", b"\x00" * 1024, namespace=NS)
    await call(raw, "answer_end", {"index": 9})  # a round trip, so every chunk has arrived
    assert len(live.audio) == 0, "nothing reads audio in text mode: none is queued"
    errors = [d["code"] for e, d in raw.received if e == "error"]
    assert errors == ["text_mode"], "said once, then dropped silently"
    dropped = app_server.app[METRICS].registry.get_sample_value("interview_audio_dropped_chunks_total")
    assert dropped == 12, "every refused chunk is counted as dropped"


async def test_oversized_audio_chunk_is_not_queued(raw, app_server, settings):
    ack = await call(raw, "start_interview", {"mode": "text", "max_questions": 1})
    live = app_server.app[SERVICE].live[ack["session_id"]]
    await raw.emit("audio_chunk", b"\x00" * (settings.audio_chunk_max_bytes + 1), namespace=NS)
    await raw.emit("audio_chunk", "text, not bytes", namespace=NS)
    await call(raw, "answer_end", {"index": 9})
    assert len(live.audio) == 0
    codes = [d["code"] for e, d in raw.received if e == "error"]
    assert codes == ["payload_too_large", "invalid_payload"]


async def test_resume_replays_only_missed_events(app_server):
    url = str(app_server.make_url("/")).rstrip("/")
    first = InterviewClient(url)
    await first.connect()
    await first.start(language="en", mode="text", max_questions=3)
    q1 = await first.next_question()
    await first.answer_text(1, "answer one")
    await first.next_question()
    await first.close()
    again = InterviewClient(url, resume_token=first.resume_token, last_seq=1)
    await again.connect()
    assert [d["seq"] for _, d in again.events] == [2]
    assert again.last_resumed["history"][0] == {"index": 1, "question": q1["text"], "answer": "answer one"}
    assert again.last_resumed["last_seq"] == 2 and again.last_resumed["status"] == "active"
    await again.close()


@pytest.mark.parametrize("auth", [{"resume_token": 5}, {"resume_token": "x", "last_seq": -1}, {"resume_token": "x" * 500}])
async def test_malformed_auth_is_refused(app_server, auth):
    error = await connect_error(str(app_server.make_url("/")), auth)
    assert error["message"] == "invalid_payload" and error["data"]["code"] == "invalid_payload"


async def test_wrong_token_is_refused_with_resume_rejected(app_server):
    auth = {"resume_token": "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2.secret", "last_seq": 0}
    error = await connect_error(str(app_server.make_url("/")), auth)
    assert error["message"] == "resume_rejected"
    assert error["data"]["code"] == "resume_rejected" and error["data"]["message"]
