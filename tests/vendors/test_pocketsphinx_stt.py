"""Offline English speech-to-text (pocketsphinx, the [offline-stt] extra) in real decoder processes.

The speech is espeak-ng's (sio_server.devtools.speech16k): synthetic, so recognised less well than a person
reading (about 0.6-0.9 of the words of these sentences against 0.62-0.68 measured on read human speech).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from sio_server.app import create_app
from sio_server.appkeys import SERVICE
from sio_server.devtools.speech16k import chunks, linear16, silence, words_recognised
from sio_server.domain.model import InterviewConfig
from sio_server.settings import Settings
from sio_server.vendors.voice_modes import capabilities
from sio_server.vendors.pocketsphinx_stt import PocketsphinxSTT, installed
from sio_server.vendors.chains import chain_names, make_stt, make_tts
from sio_server.vendors.stt import STTError
from tests.support.loop_lag import loop_lags
from tests.support.proctree import alive, children
from tests.support.waiting import wait_until


def decoders() -> list[int]:
    """This process's pocketsphinx decoder processes (other children, of earlier tests in the worker, left aside)."""
    found = []
    for pid in children(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pocketsphinx_worker" in cmdline:
            found.append(pid)
    return found

pytestmark = pytest.mark.skipif(not installed(), reason="pocketsphinx (the [offline-stt] extra) is not installed")

ANSWER = (
    "My last project was a mobile app for booking doctors and it had one million users. "
    "I think the most important thing is to listen to the customer."
)


class Heard:
    """What a stream reported: (seconds since the first audio, text, is_final)."""

    def __init__(self) -> None:
        self.results: list[tuple[float, str, bool]] = []
        self.started = time.monotonic()

    async def __call__(self, text: str, is_final: bool) -> None:
        self.results.append((time.monotonic() - self.started, text, is_final))


@pytest.fixture
async def stt():
    provider = PocketsphinxSTT(streams=2, log_format="text")
    yield provider
    await provider.aclose()


@pytest.fixture(scope="module")
def answer_audio() -> bytes:
    return silence(0.3) + linear16(ANSWER) + silence(0.5)


async def decode(stt: PocketsphinxSTT, audio: bytes, heard: Heard, real_time: bool = False) -> str:
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=heard)
    heard.started = time.monotonic()
    for chunk in chunks(audio):
        await stream.send(chunk)
        if real_time:
            await asyncio.sleep(0.1)
    return await stream.finish()


@pytest.mark.alone
async def test_english_speech_is_transcribed_in_a_worker_with_interim_results_and_the_loop_never_stalls(stt, answer_audio):
    await decode(stt, silence(0.2), Heard())  # the decoder is loaded (0.4-0.9 s) before the measurement
    heard = Heard()
    cpu = time.process_time()
    async with loop_lags(0.02) as lags:
        final = await decode(stt, answer_audio, heard, real_time=True)
        ended = time.monotonic() - heard.started
    recognised = words_recognised(ANSWER, final)
    assert recognised >= 0.6, (recognised, final)
    audio_s = len(answer_audio) / 32000  # how soon the final follows it depends on a free core: bench/offline_voice.py
    interim = [(at, text) for at, text, is_final in heard.results if not is_final]
    assert len(interim) >= 5 and interim[0][0] < audio_s, "the text so far comes while the candidate speaks"
    assert heard.results[-1][1:] == (final, True) and [r for r in heard.results if r[2]] == [heard.results[-1]]
    # Decoding costs about 0.4 s of CPU per second of audio: all of it in the worker, none in this process
    # (pocketsphinx is never imported here), so the loop runs free. Lags past 50 ms can only be the OS giving
    # the core to another process (a loaded 2-core machine): allowed for at most 1 % of the probes.
    assert "pocketsphinx" not in sys.modules and time.process_time() - cpu < 0.1 * audio_s
    assert sum(lag > 0.05 for lag in lags) <= len(lags) // 100, sorted(lags)[-5:]
    print(f"\nrecognised {recognised:.2f} of the words; final {1000 * (ended - audio_s):.0f} ms after the audio; "
          f"max loop lag {1000 * max(lags):.1f} ms: {final!r}")


async def test_a_worker_decodes_one_answer_after_another_and_a_full_pool_refuses_clearly(stt, answer_audio):
    heard = Heard()
    first = await decode(stt, answer_audio, heard)
    workers = decoders()
    assert len(workers) == 1
    assert words_recognised(ANSWER, await decode(stt, answer_audio, Heard())) >= 0.6 and first
    assert decoders() == workers, "the loaded decoder is kept for the next answer"

    streams = [await stt.open(audio_format="linear16", language="en", on_transcript=Heard()) for _ in range(2)]
    with pytest.raises(STTError, match="busy, all 2 offline transcription streams are in use"):
        await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    assert len(decoders()) == 2
    await streams[0].abort()
    again = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())  # the aborted one's slot
    assert len(decoders()) == 2, "an aborted answer's worker is reused"
    for stream in (again, streams[1]):
        assert await stream.finish() == ""


async def test_an_aborted_answer_reports_nothing_more(stt, answer_audio):
    heard = Heard()
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=heard)
    for chunk in chunks(answer_audio):
        await stream.send(chunk)
    await stream.abort()
    reported = len(heard.results)
    await asyncio.sleep(0.3)
    assert len(heard.results) == reported and not any(final for _, _, final in heard.results)
    with pytest.raises(STTError, match="closed"):
        await stream.send(b"\0\0")


async def test_a_worker_killed_mid_answer_fails_that_answer_and_the_next_gets_a_fresh_one(stt, answer_audio):
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    await stream.send(answer_audio[:32000])
    (pid,) = decoders()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(STTError, match="decoder process ended"):
        for chunk in chunks(answer_audio):
            await stream.send(chunk)
        await stream.finish()
    assert words_recognised(ANSWER, await decode(stt, answer_audio, Heard())) >= 0.6
    assert pid not in decoders()


async def test_odd_chunk_sizes_keep_the_samples_aligned(stt, answer_audio):
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    for at in range(0, len(answer_audio), 3201):
        await stream.send(answer_audio[at : at + 3201])
    assert words_recognised(ANSWER, await stream.finish()) >= 0.6


@pytest.mark.parametrize("language, audio_format, refusal", [("ko", "linear16", "English only"), ("en", "webm", "linear16")])
async def test_other_languages_and_formats_are_refused_without_a_worker(stt, language, audio_format, refusal):
    with pytest.raises(STTError, match=refusal):
        await stt.open(audio_format=audio_format, language=language, on_transcript=Heard())
    assert decoders() == []


async def test_closing_kills_every_decoder_process(answer_audio):
    provider = PocketsphinxSTT(streams=2, log_format="text")
    streams = [await provider.open(audio_format="linear16", language="en", on_transcript=Heard()) for _ in range(2)]
    await streams[0].send(answer_audio)
    workers = decoders()
    assert len(workers) == 2
    await provider.aclose()
    await wait_until(lambda: not any(alive(pid) for pid in workers), timeout=5, what="the decoders killed")
    with pytest.raises(STTError, match="stopping"):
        await provider.open(audio_format="linear16", language="en", on_transcript=Heard())


def configured(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)


async def test_offline_stt_ends_the_chain_in_english_only_and_says_the_transcript_is_rough():
    assert chain_names("STT", configured(offline_stt="auto")) == ["pocketsphinx"], "auto: on when installed"
    assert chain_names("STT", configured(offline_stt="TRUE", deepgram_api_key="d")) == ["deepgram", "pocketsphinx"]
    assert chain_names("STT", configured(offline_stt="false")) == []
    with pytest.raises(ValueError, match="can only be the last link"):
        chain_names("STT", configured(stt_providers="pocketsphinx,deepgram", deepgram_api_key="d"))
    stt, keyed, tts = make_stt(configured()), make_stt(configured(openai_api_key="k")), make_tts(configured())
    assert stt is not None and keyed is not None and keyed.name == "openai_realtime>openai>pocketsphinx"
    try:
        answer = capabilities(tts, stt, ["ko", "en"])
        assert answer.voice_answers.model_dump() == {
            "available": True, "languages": ["en"], "providers": ["pocketsphinx"], "rough_transcript": True,
        }
        assert stt.handles("en", "linear16") and not stt.handles("ko", "linear16") and not stt.handles("en", "webm")
        assert not capabilities(tts, keyed, ["ko", "en"]).voice_answers.rough_transcript, "a vendor takes them"
    finally:
        for chain in (stt, keyed, tts):
            await chain.aclose()


async def test_a_voice_interview_runs_as_text_where_offline_stt_cannot_listen(settings):
    service = create_app(settings.model_copy(update={"offline_stt": "true"}))[SERVICE]
    try:
        def mode(**kw: str) -> str:
            return service.effective_mode(InterviewConfig(mode="voice", **kw))

        assert mode(language="en", audio_format="linear16") == "voice"
        assert mode(language="ko", audio_format="linear16") == "text", "no licensed Korean model offline"
        assert mode(language="en", audio_format="webm") == "text", "pocketsphinx decodes 16 kHz PCM16 only"
    finally:
        await service.stt.aclose()


async def test_an_abort_during_finish_leaves_the_worker_usable(stt, answer_audio):
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    for chunk in chunks(answer_audio):
        await stream.send(chunk)
    finishing = asyncio.create_task(stream.finish())
    await asyncio.sleep(0)
    await stream.abort()  # the session closes while its answer ends
    await asyncio.gather(finishing, return_exceptions=True)
    (pid,) = decoders()
    assert words_recognised(ANSWER, await decode(stt, answer_audio, Heard())) >= 0.6
    assert decoders() == [pid], "the same decoder took the next answer"
