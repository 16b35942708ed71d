"""Barge-in through the real server: the candidate speaks over a question's audio."""

from __future__ import annotations

import pytest

from client_adapter import InterviewClient
from sio_server.appkeys import SERVICE
from sio_server.devtools.fakes.fake_elevenlabs import audio_for
from tests.integration.test_voice import chunks_of, serve, speak, tts_end, vendor_settings  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
QUESTION = "Tell me about a system you designed. Which parts failed first? How did you find out? What would you change?"


async def slow_question(aiohttp_server, settings, fake_openai, fake_elevenlabs, **config):
    fake_openai.replies.append(QUESTION)
    fake_elevenlabs.chunk_size = 64
    fake_elevenlabs.chunk_delay = 0.05  # the question's audio streams for a few seconds
    server, url = await serve(aiohttp_server, settings)
    client = InterviewClient(url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2, **config)
    await client.wait_for(lambda: len(chunks_of(client, 1)) >= 3)
    return server, client


async def test_barge_in_stops_the_audio_and_the_words_belong_to_the_answer(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    server, client = await slow_question(
        aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs, turn_detection="manual"
    )
    ack = await client.interrupt(1)
    at_ack = len(chunks_of(client, 1))
    assert ack["interrupted"] is True
    await speak(client, "Sorry, can I ask something first? ")
    end = await client.wait_for(lambda: tts_end(client, 1), timeout=10)
    assert end["interrupted"] is True and end["ok"] is False
    audio = chunks_of(client, 1)
    assert len(audio) - at_ack <= 1, "no chunk is sent once the server is told"
    assert end["chunks"] == len(audio) and [c["chunk"] for c in audio] == list(range(len(audio)))
    assert fake_elevenlabs.count < 4, "the sentences not yet requested were cancelled"
    question = await client.next_question()
    assert question["text"] == QUESTION, "the question is shown in full"
    done = await client.answer_end(1)
    assert done["transcript"] == "Sorry, can I ask something first?"
    session = await server.app[SERVICE].store.load(client.session_id)
    assert session.turns[0].question == QUESTION and session.turns[0].answer == done["transcript"]
    await client.close()


async def test_a_false_interruption_resumes_where_it_stopped(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    _, client = await slow_question(
        aiohttp_server, vendor_settings.model_copy(update={"false_interruption_ms": 500}), fake_openai, fake_elevenlabs
    )
    ack = await client.interrupt(1)
    assert ack["interrupted"] is True
    resumed = await client.wait_for(lambda: [d for n, d in client.live_events if n == "tts_resumed"], timeout=5)
    assert resumed == [{"index": 1}]
    end = await client.wait_for(lambda: tts_end(client, 1), timeout=20)
    assert end["ok"] is True and "interrupted" not in end
    audio = chunks_of(client, 1)
    assert [c["chunk"] for c in audio] == list(range(len(audio))) and end["chunks"] == len(audio)
    spoken = b"".join(c["audio"] for c in audio)
    expected = b"".join(audio_for(r.text) for r in fake_elevenlabs.requests)
    assert spoken == expected, "nothing was lost or repeated"
    assert fake_elevenlabs.count == 4
    await client.close()


async def test_interrupting_a_question_that_is_not_playing_changes_nothing(
    aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs  # noqa: F811
):
    _, client = await slow_question(aiohttp_server, vendor_settings, fake_openai, fake_elevenlabs)
    assert (await client.interrupt(2))["interrupted"] is False
    with pytest.raises(Exception) as err:
        await client._request("interrupt", {"index": "x"}, resend=False)
    assert getattr(err.value, "code", None) == "invalid_payload"
    await client.close()
