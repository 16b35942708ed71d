"""OpenAI realtime transcription against the fake's websocket: live text, the answer's end, every fault; the resampler."""

from __future__ import annotations

import array
import math
import time

import pytest

from sio_server.devtools.fakes.fake_server import free_port
from sio_server.devtools.fakes.fake_openai import FakeOpenAI
from sio_server.vendors.stt_fallback import FallbackSTT
from sio_server.vendors.openai_realtime_stt import OpenAIRealtimeSTT, realtime_url
from sio_server.vendors.resample import Resampler, audioop
from sio_server.vendors.stt import STTError
from tests.support.speech import chunks, silence, speech
from tests.support.waiting import wait_until

from .helpers import fast, openai_stt

FIRST, SECOND = "I started with the logs.", "Then I fixed the slow query."


class Heard:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    async def __call__(self, text: str, is_final: bool) -> None:
        self.results.append((text, is_final))


def realtime(fake: FakeOpenAI, *, timeout: float = 2.0, settle: float = 3.0, rescue: bool = True) -> OpenAIRealtimeSTT:
    return OpenAIRealtimeSTT(
        "sk-test", realtime_url(fake.url), "gpt-4o-mini-transcribe", fast(2, timeout),
        silence_ms=500, settle_timeout=settle, rescue=openai_stt(fake) if rescue else None,
    )  # fmt: skip


async def say(stream, pcm: bytes) -> None:
    for chunk in chunks(pcm):
        await stream.send(chunk)


async def heard_out(stream, fake: FakeOpenAI) -> None:
    """The fake judged every byte sent and the stream read every event after session.created (as in real time, where
    the server's VAD events come within a frame or two)."""
    conn = fake.realtime.connections[-1]
    sent = len(stream._audio) * 3 // 2
    await wait_until(lambda: conn.appended >= sent - 8 and stream.events == len(conn.sent) - 1, 5, "the fake's events")


def test_the_url_follows_the_base_urls_scheme() -> None:
    assert realtime_url(None) == "wss://api.openai.com/v1/realtime?intent=transcription"
    assert realtime_url("http://127.0.0.1:9/v1/") == "ws://127.0.0.1:9/v1/realtime?intent=transcription"
    assert realtime_url("wss://proxy.example/openai/v1") == "wss://proxy.example/openai/v1/realtime?intent=transcription"


async def test_live_segments_while_speaking_and_the_open_one_committed_at_the_end(fake_openai: FakeOpenAI) -> None:
    fake_openai.realtime.segments.extend([FIRST, SECOND])
    stt, heard = realtime(fake_openai), Heard()
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=heard)
    await say(stream, speech(FIRST) + silence(1.0))
    # the pause closed the first segment (server VAD): its text comes while the candidate still has the floor
    await wait_until(lambda: (FIRST, True) in heard.results, 5, "the first segment's final")
    assert any(not final for _, final in heard.results), "interim deltas came first"
    await say(stream, speech(SECOND))  # no pause after it: finish() commits it
    await heard_out(stream, fake_openai)
    assert await stream.finish() == f"{FIRST} {SECOND}"
    conn = fake_openai.realtime.connections[0]
    assert conn.query == {"intent": "transcription"} and conn.headers["Authorization"] == "Bearer sk-test"
    session = conn.updates[0]["session"]
    assert session["type"] == "transcription"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe", "language": "en"}
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500
    assert conn.commits == 1
    sent_16k = len(speech(FIRST)) + len(silence(1.0)) + len(speech(SECOND))
    assert abs(conn.appended - sent_16k * 3 // 2) <= 8, "every byte went out, at 24 kHz"
    await stt.aclose()


async def test_an_answer_that_ended_in_a_pause_is_not_committed_again(fake_openai: FakeOpenAI) -> None:
    fake_openai.realtime.segments.append(FIRST)
    stt = realtime(fake_openai)
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    await say(stream, speech(FIRST) + silence(1.0))
    await heard_out(stream, fake_openai)
    assert await stream.finish() == FIRST
    assert fake_openai.realtime.connections[0].commits == 0
    await stt.aclose()


async def test_webm_is_not_taken_and_the_chain_skips_it_without_blame(fake_openai: FakeOpenAI) -> None:
    stt = realtime(fake_openai)
    with pytest.raises(STTError, match="linear16"):
        await stt.open(audio_format="webm", language="en", on_transcript=Heard())
    chain = FallbackSTT([stt, openai_stt(fake_openai)])
    stream = await chain.open(audio_format="webm", language="en", on_transcript=Heard())
    assert stream.name == "openai" and not fake_openai.realtime.connections
    assert chain.links[0].breaker.allow(), "skipping a provider for its format is not a failure"
    await chain.aclose()


@pytest.mark.parametrize("fault", ["refused", "401", "500", "hang", "silent"])
async def test_a_socket_that_cannot_open_fails_the_open(fake_openai: FakeOpenAI, fault: str) -> None:
    if fault == "401":
        fake_openai.realtime.api_key = "another-key"
    elif fault == "500":
        fake_openai.realtime.refuse = 500
    elif fault == "hang":
        fake_openai.realtime.hang_handshake = 30
    elif fault == "silent":
        fake_openai.realtime.silent = True
    url = f"ws://127.0.0.1:{free_port()}/v1/realtime?intent=transcription" if fault == "refused" else None
    stt = realtime(fake_openai, timeout=0.5)
    stt.url = url or stt.url
    started = time.monotonic()
    with pytest.raises(STTError, match="cannot open"):
        await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    assert time.monotonic() - started < 3.0, "two tries of 0.5 s at most"
    await stt.aclose()


async def test_when_it_cannot_open_the_chain_falls_back_to_file_transcription(fake_openai: FakeOpenAI) -> None:
    fake_openai.realtime.refuse = 503
    fake_openai.transcriptions.transcript = FIRST
    chain = FallbackSTT([realtime(fake_openai, timeout=0.5), openai_stt(fake_openai)])
    stream = await chain.open(audio_format="linear16", language="en", on_transcript=Heard())
    await say(stream, speech(FIRST))
    assert stream.name == "openai" and await stream.finish() == FIRST
    assert fake_openai.transcriptions.requests[0].filename == "answer.wav"
    await chain.aclose()


@pytest.mark.parametrize("fault", ["drop", "error_event", "hang_transcripts", "failed_segment"])
async def test_a_socket_failing_mid_answer_is_rescued_by_file_transcription(fake_openai: FakeOpenAI, fault: str) -> None:
    realtime_fake = fake_openai.realtime
    realtime_fake.segments.extend([FIRST, SECOND])
    if fault == "drop":
        realtime_fake.drop_after_appends = 5
    elif fault == "error_event":
        realtime_fake.error_after_appends = 5
    elif fault == "hang_transcripts":
        realtime_fake.hang_transcripts = True
    else:
        realtime_fake.fail_segments = True
    fake_openai.transcriptions.transcript = f"{FIRST} {SECOND}"
    stt = realtime(fake_openai, settle=1.0)
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    await say(stream, speech(FIRST) + silence(1.0) + speech(SECOND))
    started = time.monotonic()
    assert await stream.finish() == f"{FIRST} {SECOND}"
    assert time.monotonic() - started < 3.0
    request = fake_openai.transcriptions.requests[0]
    assert len(request.audio) == 44 + len(speech(FIRST) + silence(1.0) + speech(SECOND)), "the whole answer, as WAV"
    await stt.aclose()


async def test_without_a_rescue_a_failed_socket_fails_the_answer(fake_openai: FakeOpenAI) -> None:
    fake_openai.realtime.drop_after_appends = 2
    stt = realtime(fake_openai, rescue=False)
    stream = await stt.open(audio_format="linear16", language="en", on_transcript=Heard())
    await say(stream, speech(FIRST))
    with pytest.raises(STTError, match="openai realtime"):
        await stream.finish()
    await stt.aclose()


def tone(seconds: float, hz: float = 440.0, rate: int = 16000) -> bytes:
    return array.array("h", (int(8000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(int(rate * seconds)))).tobytes()


@pytest.mark.parametrize("pure", [False, True] if audioop is not None else [True])
def test_the_resampler_makes_three_samples_of_two_and_keeps_the_signal(pure: bool) -> None:
    resampler = Resampler(pure=pure)
    pcm = tone(1.0)
    out = b"".join(resampler.convert(chunk) for chunk in chunks(pcm, 100))
    assert abs(len(out) - len(pcm) * 3 // 2) <= 8
    samples = array.array("h", out)
    # the 440 Hz tone survives: as many zero crossings per second at 24 kHz as at 16 kHz
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    assert 870 <= crossings <= 890
    assert max(samples) <= 8001 and min(samples) >= -8001


def test_the_resampler_keeps_an_odd_byte_for_the_next_chunk() -> None:
    resampler = Resampler(pure=True)
    pcm = tone(0.1)
    out = resampler.convert(pcm[:101]) + resampler.convert(pcm[101:])
    assert out[:600] == Resampler(pure=True).convert(pcm)[:600]


@pytest.mark.parametrize("pure", [False, True] if audioop is not None else [True])
def test_resampling_costs_little_cpu(pure: bool) -> None:
    resampler, pcm = Resampler(pure=pure), chunks(tone(10.0))
    started = time.process_time()
    for chunk in pcm:
        resampler.convert(chunk)
    share = (time.process_time() - started) / 10.0
    print(f"\nresampling 16->24 kHz ({'pure Python' if pure else 'audioop'}): {100 * share:.3f} % of a core per stream")
    assert share < 0.05
