"""The offline TTS: real espeak-ng synthesis, MP3 frames out, English and Korean, one synthesis at a time."""

from __future__ import annotations

import asyncio
import time

import pytest

from sio_server.vendors import espeak_tts
from sio_server.vendors.espeak_tts import EspeakTTS, load_voices
from sio_server.vendors.fallback import FallbackTTS
from sio_server.vendors.silent_tts import OfflineTTS
from sio_server.vendors.tts import TTSError
from tests.support.loop_lag import loop_lags
from tests.support.mp3 import duration_s, frames

QUESTIONS = {
    "en": "Thanks for joining today. Could you tell me about a project you are proud of?",
    "ko": "오늘 와 주셔서 감사합니다. 가장 자랑스러운 프로젝트를 말씀해 주세요.",
}
LONG = "Tell me about the hardest bug you fixed, how you found it, and what you changed afterwards. " * 40


async def speak(tts: EspeakTTS, text: str, persona: str = "professional", language: str = "en") -> list[bytes]:
    return [chunk async for chunk in tts.stream(text, persona=persona, language=language)]


@pytest.fixture
async def tts():
    provider = EspeakTTS()
    yield provider
    await provider.aclose()


@pytest.mark.parametrize("language", ["en", "ko"])
async def test_a_question_becomes_whole_mp3_frames_of_speech(tts: EspeakTTS, language: str) -> None:
    chunks = await speak(tts, QUESTIONS[language], language=language)
    audio = b"".join(chunks)
    parsed = frames(audio)  # whole Layer III frames and nothing else
    assert {(f.sample_rate, f.kbps) for f in parsed} == {(22050, espeak_tts.MP3_KBPS)}
    assert 2.0 < duration_s(audio) < 15.0, "two sentences of speech"
    assert all(chunks) and max(map(len, chunks)) <= espeak_tts.MAX_CHUNK_BYTES + 4096


async def test_every_voice_of_the_data_file_speaks_and_personas_sound_different(tts: EspeakTTS) -> None:
    voices = load_voices()
    assert set(voices) == {"en", "ko"} and all(set(v) == {"professional", "friendly", "challenging"} for v in voices.values())
    for language, table in voices.items():
        audio = {persona: b"".join(await speak(tts, QUESTIONS[language], persona, language)) for persona in table}
        assert all(frames(a) for a in audio.values())
        assert len(set(audio.values())) == len(table), f"{language}: each persona has its own voice"


async def test_audio_streams_while_the_rest_is_still_being_synthesized(tts: EspeakTTS) -> None:
    stream = tts.stream(LONG, persona="friendly", language="en")
    first = await anext(stream)
    assert first and espeak_tts._LOCK.locked(), "the first chunk came out before the synthesis ended"
    rest = [chunk async for chunk in stream]
    assert len(rest) > 1 and duration_s(first + b"".join(rest)) > 60


@pytest.mark.alone  # it measures the event loop's stalls: nothing else of the suite beside it
async def test_synthesis_never_stalls_the_event_loop(tts: EspeakTTS) -> None:
    async with loop_lags(0.002) as lags:
        started = time.perf_counter()
        await speak(tts, LONG)
        took = time.perf_counter() - started
    # Synthesizing this text takes hundreds of ms of CPU; on the loop it would stall it that long.
    assert took > 0.1 and max(lags) < 0.05, (took, max(lags))


async def test_concurrent_streams_take_turns_and_each_gets_its_own_audio() -> None:
    providers = [EspeakTTS() for _ in range(4)]
    jobs = [("en", "professional"), ("ko", "friendly"), ("en", "challenging"), ("ko", "professional")]
    try:
        alone = [b"".join(await speak(p, QUESTIONS[lang], persona, lang)) for p, (lang, persona) in zip(providers, jobs)]
        together = await asyncio.gather(
            *(speak(p, QUESTIONS[lang], persona, lang) for p, (lang, persona) in zip(providers, jobs))
        )
    finally:
        for p in providers:
            await p.aclose()
    # The variants breathe (random noise), so the bytes differ run to run; the speech's length does not.
    assert [duration_s(b"".join(chunks)) for chunks in together] == [duration_s(audio) for audio in alone]


async def test_a_stream_closed_early_stops_its_synthesis_and_frees_the_engine(tts: EspeakTTS) -> None:
    stream = tts.stream(LONG, persona="friendly", language="en")
    assert await anext(stream)
    await stream.aclose()
    started = time.perf_counter()
    assert b"".join(await speak(tts, "Next question.")) and time.perf_counter() - started < 0.5


async def test_a_language_without_a_voice_fails_and_the_chain_says_so(tts: EspeakTTS) -> None:
    with pytest.raises(TTSError, match="no voice for language 'ja'"):
        await speak(tts, "こんにちは。", language="ja")
    with pytest.raises(TTSError, match="no TTS provider"):
        async for _ in FallbackTTS([tts, OfflineTTS()]).stream("Hi.", persona="friendly", language="ja"):
            pass


async def test_an_unknown_voice_is_a_clear_error() -> None:
    tts = EspeakTTS({"en": {"professional": espeak_tts.Voice("no-such-voice", 160)}})
    try:
        with pytest.raises(TTSError, match="voice 'no-such-voice'"):
            await speak(tts, "Hello.")
        assert b"".join(await speak(EspeakTTS(), "Still fine."))
    finally:
        await tts.aclose()
