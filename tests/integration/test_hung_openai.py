"""One OPENAI_API_KEY for everything, and OpenAI hangs on every route (chat, audio/speech, transcriptions):
a real server process keeps the interview on time, whatever TTS does (issue 20, item 1)."""

from __future__ import annotations

import asyncio
import time

import pytest

from client_adapter import InterviewClient
from sio_server.devtools.fakes.fake_openai import FakeOpenAI

pytestmark = pytest.mark.integration

LLM_DEADLINE = 3.0
FEEDBACK_DEADLINE = 3.0
TTS_DEADLINE = 2.0
SLACK = 2.0  # what the done-when line allows past a deadline


async def hung_server(server_factory, fake_openai: FakeOpenAI, **extra: str):
    fake_openai.hang()
    server = server_factory(
        {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": fake_openai.url,
            "LLM_QUESTION_DEADLINE": str(LLM_DEADLINE),
            "LLM_FEEDBACK_DEADLINE": str(FEEDBACK_DEADLINE),
            "TTS_QUESTION_DEADLINE": str(TTS_DEADLINE),
            "QUESTION_SLOW_NOTICE": "1",
            "VENDOR_BREAKER_FAILURES": "0",  # the breaker never opens: every step meets the hung vendor
            "LOG_FORMAT": "text",
            **extra,
        }
    )
    await asyncio.to_thread(server.start, 60.0)  # a loaded machine starts slowly
    client = InterviewClient(server.url)
    await client.connect()
    return server, client


def named(client: InterviewClient, name: str, **match) -> list[dict]:
    return [d for n, d in client.live_events if n == name and all(d.get(k) == v for k, v in match.items())]


async def timed_question(client: InterviewClient, index: int) -> float:
    started = time.monotonic()
    question = await client.next_question(timeout=LLM_DEADLINE + 10)
    assert question["index"] == index and question["fallback"] is True
    return time.monotonic() - started


async def test_a_text_interview_keeps_every_deadline_when_openai_hangs_everywhere(server_factory, fake_openai):
    server, client = await hung_server(server_factory, fake_openai)
    ack = await client.start(language="en", mode="text", max_questions=3)
    assert ack["mode"] == "text" and ack["speak_questions"] is False
    waits = [await timed_question(client, 1)]
    for index in (2, 3):
        answered = time.monotonic()
        await client.answer_text(index - 1, f"My answer number {index - 1}, with an example.")
        await timed_question(client, index)
        waits.append(time.monotonic() - answered)
    answered = time.monotonic()
    await client.answer_text(3, "My last answer, with an example.")
    feedback = await client.feedback(timeout=FEEDBACK_DEADLINE + 10)
    feedback_wait = time.monotonic() - answered
    assert all(w < LLM_DEADLINE + SLACK for w in waits), (waits, server.log())
    assert feedback["fallback"] is True and feedback_wait < FEEDBACK_DEADLINE + SLACK, feedback_wait
    assert not fake_openai.speech_requests, "a text interview does not speak its questions"
    assert not [n for n, _ in client.live_events if n.startswith("tts")]
    slow = named(client, "warning", code="llm_slow")
    assert [w["step"] for w in slow] == ["question"] * 3 + ["feedback"], "the candidate is told while waiting"
    await client.close()


async def test_a_voice_interview_with_spoken_questions_stays_on_time_when_tts_hangs(server_factory, fake_openai):
    _, client = await hung_server(server_factory, fake_openai, OFFLINE_TTS="false")  # no offline voice to fall back on
    ack = await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2)
    assert ack["mode"] == "voice" and ack["speak_questions"] is True
    await timed_question(client, 1)
    asked = time.monotonic()
    end = await client.wait_for(lambda: named(client, "tts_end", index=1), timeout=TTS_DEADLINE + 10)
    assert end == [{"index": 1, "chunks": 0, "ok": False}]
    assert time.monotonic() - asked < TTS_DEADLINE + 1.0, "one deadline, not one per sentence and try"
    answered = time.monotonic()
    await client.answer_text(1, "I typed this answer while the voice was silent.")
    await timed_question(client, 2)
    assert time.monotonic() - answered < LLM_DEADLINE + SLACK
    # Answered at once, before question 2's speech gave up: the next step does not wait for it.
    answered = time.monotonic()
    await client.answer_text(2, "And this one at once.")
    feedback = await client.feedback(timeout=FEEDBACK_DEADLINE + 10)
    assert feedback["fallback"] is True and time.monotonic() - answered < FEEDBACK_DEADLINE + SLACK
    assert [d["index"] for d in named(client, "tts_end")] == [1, 2], "tts_end once per question"
    assert all(d["ok"] is False for d in named(client, "tts_end"))
    assert len(named(client, "warning", code="tts_failed")) <= 2
    assert len(fake_openai.speech_requests) <= 2, "at most one TTS request a question, not one per sentence"
    await client.close()


async def test_with_the_offline_voice_a_hung_openai_tts_costs_one_deadline_then_espeak_speaks(server_factory, fake_openai):
    _, client = await hung_server(server_factory, fake_openai)
    ack = await client.start(language="en", mode="voice", audio_format="linear16", max_questions=1)
    assert ack["speak_questions"] is True
    await timed_question(client, 1)
    asked = time.monotonic()
    await client.wait_for(lambda: named(client, "tts_chunk") or client.audio.of(1), timeout=TTS_DEADLINE + 10)
    assert time.monotonic() - asked < TTS_DEADLINE + 1.0, "OpenAI's deadline once, then the offline voice"
    end = await client.wait_for(lambda: named(client, "tts_end", index=1), timeout=30)
    assert end[0]["ok"] is True and end[0]["chunks"] > 0
    assert len(named(client, "warning", code="tts_fallback")) == 1
    assert len(fake_openai.speech_requests) == 1, "the hung vendor is not asked again for the question's next sentences"
    await client.close()
