"""Issue 19 rows 4 and 11 through real servers against the fake vendors: the draft pump, audio rate, STT churn.

The fake Deepgram hears the audio bytes as words (zero bytes are silence), so a
never-ending answer is a new word sent about every second.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from client_adapter import InterviewClient
from client_adapter.errors import InterviewError
from sio_server.devtools.fakes.env import vendor_env
from sio_server.devtools.floods import never_ending_answer
from tests.integration.test_voice import serve, speak, vendor_settings, voice_client  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def warnings(client: InterviewClient, code: str) -> list[dict]:
    return [d for n, d in client.live_events if n == "warning" and d.get("code") == code]


async def test_a_never_ending_answer_is_not_an_llm_pump(server_factory, fake_openai, fake_elevenlabs, fake_deepgram):
    server = server_factory(env=vendor_env(fake_openai, fake_elevenlabs, fake_deepgram)).start()
    client = InterviewClient(server.url)
    await client.connect()
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=5)
    await client.wait_for(lambda: client.questions.get(1), timeout=20)
    asked = fake_openai.count
    assert asked == 1
    await never_ending_answer(client, 20)  # a word about every second for 20 s
    assert fake_deepgram.connections and not client.questions.get(2), "the answer is still going on"
    drafts = fake_openai.count - asked
    assert 1 <= drafts <= 3, f"{drafts} LLM requests while one answer went on (at most 4 in all)"
    await client.close()


async def test_audio_faster_than_real_time_is_dropped_and_told(aiohttp_server, vendor_settings, fake_deepgram):  # noqa: F811
    _, url = await serve(aiohttp_server, vendor_settings, audio_burst_seconds=1.0)
    client = await voice_client(url, turn_detection="manual")
    started = time.monotonic()
    for _ in range(40):  # 320,000 bytes at once: 10 s of linear16
        await client.send_audio(b"\0" * 8000)
    elapsed = time.monotonic() - started
    told = await client.wait_for(lambda: warnings(client, "audio_too_fast"), timeout=10)
    assert told[0]["budget"] == "audio_realtime"
    with contextlib.suppress(InterviewError):  # silence: empty_answer, once what was accepted reached the STT stream
        await client.answer_end(1)
    received = sum(len(c.audio) for c in fake_deepgram.connections)
    assert received <= 32_000 + 40_000 * (elapsed + 1.0), f"{received} bytes passed in {elapsed:.2f} s"
    assert received >= 32_000, "a second of audio ahead is accepted"
    await client.close()


async def test_no_new_stt_stream_right_after_an_empty_answer(aiohttp_server, vendor_settings, fake_deepgram):  # noqa: F811
    _, url = await serve(aiohttp_server, vendor_settings, stt_empty_cooldown_ms=1500)
    client = await voice_client(url, turn_detection="manual")
    await client.send_audio(b"\0" * 3200)  # silence
    await client.wait_for(lambda: len(fake_deepgram.connections) == 1, timeout=10)
    with pytest.raises(InterviewError, match="empty_answer"):
        await client.answer_end(1)
    ended = time.monotonic()
    await speak(client, "Now I answer. ")  # at once: the churn of issue 19 row 11 would open a stream now
    await client.wait_for(lambda: len(fake_deepgram.connections) == 2, timeout=10)
    assert time.monotonic() - ended >= 1.5, "no stream in the cooldown"
    assert (await client.answer_end(1))["transcript"] == "Now I answer.", "the audio waited: no word lost"
    await client.close()
