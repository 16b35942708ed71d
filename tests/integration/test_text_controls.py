"""Issue 13 row 11: C1 controls, bidi controls and line separators are refused in every text field."""

from __future__ import annotations

import pytest
import socketio

from sio_server.app import create_app
from sio_server.domain.errors import InterviewError
from sio_server.transport.protocol import AnswerText, StartInterview, parse

NS = "/interview"
HOSTILE = ["\x85", "\x9b", "\x80", "\x9f", "\u202e", "\u202a", "\u2066", "\u2069", "\u2028", "\u2029", "\u200f"]
FIELDS = ["job_title", "company", "job_description", "resume_text"]


@pytest.mark.parametrize("char", HOSTILE, ids=[f"U+{ord(c):04X}" for c in HOSTILE])
def test_every_text_field_refuses_the_character(char):
    for field in FIELDS:
        with pytest.raises(InterviewError) as refused:
            parse(StartInterview, {field: f"before{char}after"})
        assert refused.value.code == "invalid_payload"
    with pytest.raises(InterviewError):
        parse(AnswerText, {"index": 1, "text": f"an answer{char} with it"})


def test_ordinary_text_is_accepted():
    text = "Backend engineer · 백엔드 개발자 — naïve café\ttab\nnew line"
    assert parse(StartInterview, {"job_description": text}).job_description == text
    # a one-line field keeps the text on one line (issue 19 row 13; tests/unit/test_report_markdown.py)
    assert parse(StartInterview, {"job_title": text}).job_title == " ".join(text.split())
    assert parse(AnswerText, {"index": 1, "text": text}).text == text


async def test_refused_over_the_socket_and_nothing_is_stored(aiohttp_server, settings, tmp_path):
    server = await aiohttp_server(create_app(settings))
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(str(server.make_url("/")), namespaces=[NS], transports=["websocket"])
    for char in ("\u202e", "\x85", "\u2028"):
        ack = await sio.call("start_interview", {"mode": "text", "company": f"evil{char}corp"}, namespace=NS)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
    ack = await sio.call("start_interview", {"mode": "text", "max_questions": 1}, namespace=NS)
    assert ack["ok"]
    refused = await sio.call("answer_text", {"index": 1, "text": "abc\u2066def"}, namespace=NS)
    assert refused["error"]["code"] == "invalid_payload"
    stored = (tmp_path / "data" / "sessions" / f"{ack['session_id']}.json").read_text()
    assert "\\u2066" not in stored and "\u2066" not in stored
    await sio.disconnect()
