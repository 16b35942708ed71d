"""OpenAI text-to-speech and speech-to-text against the fake's audio endpoints, with faults."""

from __future__ import annotations

import time

import pytest

from sio_server.devtools.fakes.fake_elevenlabs import audio_for
from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.vendors.openai_tts import DEFAULT_VOICES
from sio_server.vendors.stt import STTError
from sio_server.vendors.tts import TTSError

from .helpers import openai_stt, openai_tts

TEXT = "Tell me about a project you are proud of."


async def speak(tts, text: str = TEXT, persona: str = "friendly") -> list[bytes]:
    return [chunk async for chunk in tts.stream(text, persona=persona, language="en")]


async def test_tts_streams_the_audio_in_chunks(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.chunk_size = 64
    tts = openai_tts(fake_openai)
    chunks = await speak(tts, persona="challenging")
    assert b"".join(chunks) == audio_for(TEXT) and len(chunks) > 1
    request = fake_openai.speech_requests[0]
    assert request.fields == {
        "model": "gpt-4o-mini-tts",
        "input": TEXT,
        "voice": DEFAULT_VOICES["challenging"],
        "response_format": "mp3",
    }
    assert request.headers["Authorization"] == "Bearer sk-test"
    await tts.aclose()


async def test_tts_429_with_retry_after_is_honoured(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.fail_next(1, 429, retry_after=0.4)
    tts = openai_tts(fake_openai)
    started = time.monotonic()
    assert b"".join(await speak(tts)) == audio_for(TEXT)
    assert time.monotonic() - started >= 0.4 and len(fake_openai.speech_requests) == 2
    await tts.aclose()


async def test_tts_500_until_max_tries_fails(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.fail_next(5, 500)
    tts = openai_tts(fake_openai, max_tries=3)
    with pytest.raises(TTSError, match="InternalServerError"):
        await speak(tts)
    assert len(fake_openai.speech_requests) == 3
    await tts.aclose()


async def test_tts_drop_before_the_first_byte_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.cut_after_bytes = 0
    tts = openai_tts(fake_openai)
    assert b"".join(await speak(tts)) == audio_for(TEXT)
    assert len(fake_openai.speech_requests) == 2
    await tts.aclose()


async def test_tts_cut_mid_stream_raises_after_the_audio_sent(fake_openai: FakeOpenAI) -> None:
    fake_openai.speech.chunk_size = 16
    fake_openai.speech.cut_after_bytes = 40
    tts = openai_tts(fake_openai)
    got: list[bytes] = []
    with pytest.raises(TTSError, match="stream broke"):
        async for chunk in tts.stream(TEXT, persona="friendly", language="en"):
            got.append(chunk)
    assert audio_for(TEXT).startswith(b"".join(got)) and 0 < len(b"".join(got)) <= 40
    assert len(fake_openai.speech_requests) == 1, "nothing is retried after the first byte"
    await tts.aclose()


class Heard:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    async def __call__(self, text: str, is_final: bool) -> None:
        self.results.append((text, is_final))


async def transcribe(stt, words: str, audio_format: str = "linear16", heard: Heard | None = None) -> str:
    stream = await stt.open(audio_format=audio_format, language="en", on_transcript=heard or Heard())
    data = words.encode()
    for i in range(0, len(data), 7):
        await stream.send(data[i : i + 7])
    return await stream.finish()


async def test_stt_sends_the_answer_once_and_streams_interim_then_final(fake_openai: FakeOpenAI) -> None:
    stt = openai_stt(fake_openai)
    heard = Heard()
    assert await transcribe(stt, "I cut our costs by 30%.", heard=heard) == "I cut our costs by 30%."
    request = fake_openai.transcriptions.requests[0]
    assert request.filename == "answer.wav" and request.audio.startswith(b"RIFF")
    assert request.fields == {"model": "gpt-4o-mini-transcribe", "language": "en", "stream": "true"}
    assert heard.results[0] == ("I", False) and heard.results[-1] == ("I cut our costs by 30%.", True)
    assert [final for _, final in heard.results].count(True) == 1
    assert await transcribe(stt, "Hello there.", audio_format="webm") == "Hello there."
    assert fake_openai.transcriptions.requests[1].filename == "answer.webm"
    assert fake_openai.transcriptions.requests[1].audio == b"Hello there."
    await stt.aclose()


async def test_stt_nothing_sent_for_silence(fake_openai: FakeOpenAI) -> None:
    stt = openai_stt(fake_openai)
    stream = await stt.open(audio_format="webm", language="en", on_transcript=Heard())
    assert await stream.finish() == "" and fake_openai.transcriptions.requests == []
    await stt.aclose()


@pytest.mark.parametrize("cut_after", [0, 2])
async def test_stt_cut_stream_is_retried_with_the_whole_answer(fake_openai: FakeOpenAI, cut_after: int) -> None:
    fake_openai.transcriptions.cut_after_deltas = cut_after
    stt = openai_stt(fake_openai)
    heard = Heard()
    assert await transcribe(stt, "First I measured everything.", heard=heard) == "First I measured everything."
    assert len(fake_openai.transcriptions.requests) == 2
    assert heard.results[-1] == ("First I measured everything.", True)
    await stt.aclose()


async def test_stt_429_retry_after_then_500s_until_max_tries(fake_openai: FakeOpenAI) -> None:
    fake_openai.transcriptions.fail_next(1, 429, retry_after=0.3)
    stt = openai_stt(fake_openai, max_tries=3)
    started = time.monotonic()
    assert await transcribe(stt, "Yes.") == "Yes."
    assert time.monotonic() - started >= 0.3
    fake_openai.transcriptions.fail_next(3, 500)
    with pytest.raises(STTError, match="InternalServerError"):
        await transcribe(stt, "No.")
    assert len(fake_openai.transcriptions.requests) == 2 + 3
    await stt.aclose()


@pytest.mark.parametrize("kind", ["tts", "stt"])
async def test_hang_fails_after_the_timeouts(fake_openai: FakeOpenAI, kind: str) -> None:
    endpoint, make, call, error = {
        "tts": (fake_openai.speech, openai_tts, speak, TTSError),
        "stt": (fake_openai.transcriptions, openai_stt, lambda p: transcribe(p, "Anyone there?"), STTError),
    }[kind]
    endpoint.header_delay = 30
    provider = make(fake_openai, max_tries=2, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(error, match="Timeout"):
        await call(provider)
    assert time.monotonic() - started < 3.0 and len(endpoint.requests) == 2
    await provider.aclose()


async def test_stt_audio_over_the_buffer_is_dropped_and_reported(fake_openai: FakeOpenAI) -> None:
    stt = openai_stt(fake_openai, buffer_bytes=1024)
    stream = await stt.open(audio_format="webm", language="en", on_transcript=Heard())
    for i in range(300):
        await stream.send(f"w{i} ".encode())
    assert stream.audio_lost
    text = await stream.finish()
    assert len(fake_openai.transcriptions.requests[0].audio) == 1024 and text.startswith("w0 w1 w2")
    await stt.aclose()
