"""The server's VAD on real speech (espeak-ng, 16 kHz PCM16): the detectors, their pool, one answer's feed, its cost."""

from __future__ import annotations

import asyncio
import time

import pytest

from sio_server.interview.voice_activity import AnswerVoice
from sio_server.vendors.vad import BYTES_PER_SECOND, Silero, VADPool, WebRTC, make_vad_pool
from tests.support.speech import chunks, silence, speech

SENTENCE = "I started with the logs, and then I fixed the slow query in the billing service."


def judged(vad, pcm: bytes) -> list[bool]:
    size = vad.frame_bytes
    return [vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]


@pytest.mark.parametrize("make", [Silero, WebRTC])
def test_each_detector_hears_speech_and_not_silence(make) -> None:
    vad = make()
    voice = judged(vad, speech(SENTENCE))
    assert sum(voice) / len(voice) > 0.6, "most of a spoken sentence is speech"
    assert not any(judged(vad, silence(2.0))), "silence is not"
    vad.reset()
    assert not any(judged(vad, silence(0.5)))


async def test_the_pool_makes_a_spare_off_the_loop_and_lends_it_again() -> None:
    pool = make_vad_pool("silero")
    assert pool is not None and pool.name == "silero"
    assert pool.take_now() is None, "none is made before it is asked for"
    first = await pool.take()
    assert isinstance(first, Silero) and pool.lent == 1
    pool.give(first)
    assert pool.take_now() is first, "given back, reset, lent again"
    await pool.aclose()


async def test_a_silero_that_cannot_load_falls_back_to_webrtc() -> None:
    def broken():
        raise OSError("libsilero_vad_lite.so: cannot open shared object file")

    broken.vad_name = "silero"
    pool = VADPool(broken, fallback=make_vad_pool("webrtc").make)
    assert isinstance(await pool.take(), WebRTC) and pool.name == "webrtc"
    await pool.aclose()


async def test_when_nothing_can_be_made_the_pool_says_so() -> None:
    def broken():
        raise OSError("no model")

    pool = VADPool(broken)
    with pytest.raises(RuntimeError):
        await pool.take()
    assert pool.broken and pool.take_now() is None
    await pool.aclose()


def test_off_means_no_pool() -> None:
    assert make_vad_pool("off") is None


async def feed(voice: AnswerVoice, pcm: bytes, real_time: float = 0.0) -> list[float]:
    """Send ``pcm`` in 100 ms chunks (``real_time`` s apart); the arrival time of each chunk."""
    loop, times = asyncio.get_running_loop(), []
    for chunk in chunks(pcm):
        times.append(loop.time())
        voice.hear(chunk)
        if real_time:
            await asyncio.sleep(real_time)
    return times


async def test_an_answers_feed_reports_speech_with_the_time_it_ended() -> None:
    pool = make_vad_pool("silero")
    pool.give(await pool.take())  # a spare is ready
    heard: list[tuple[float, float]] = []
    voice = AnswerVoice(pool, lambda at, seconds: heard.append((at, seconds)))
    spoken = speech(SENTENCE)
    times = await feed(voice, silence(0.5) + spoken + silence(1.5), real_time=0.01)
    speech_s = sum(s for _, s in heard)
    assert abs(speech_s - len(spoken) / BYTES_PER_SECOND) < 1.0, "about the sentence's length was voiced"
    last_chunk_of_speech = times[(len(silence(0.5)) + len(spoken)) // 3200]
    assert heard[-1][0] <= last_chunk_of_speech + 0.05, "the last speech ended before the trailing silence"
    # Speech starts with chunk 5. Silero (32 ms frames, with its own smoothing) may flag a frame or two of the
    # leading silence on a busy machine; what matters is that the silence is not taken for real speech.
    early = sum(seconds for at, seconds in heard if at < times[5])
    assert early <= 0.2, ("the leading silence is not speech", heard[:3], times[:6])
    voice.end_answer()
    assert pool.lent == 0 and voice.vad is None
    await voice.close()
    await pool.aclose()


async def test_chunks_that_arrive_before_a_detector_is_ready_are_judged_when_it_comes() -> None:
    pool = make_vad_pool("silero")
    heard: list[tuple[float, float]] = []
    voice = AnswerVoice(pool, lambda at, seconds: heard.append((at, seconds)))
    times = await feed(voice, speech(SENTENCE)[: 3 * BYTES_PER_SECOND])
    assert not heard and voice.pending, "no detector yet: the audio waits"
    await asyncio.wait_for(asyncio.shield(voice._taking), 10)  # type: ignore[arg-type]
    assert heard and heard[-1][0] <= times[-1] + 0.001, "judged at their arrival times"
    await voice.close()
    await pool.aclose()


@pytest.mark.parametrize("kind", ["silero", "webrtc"])
async def test_one_stream_costs_little_cpu_and_never_blocks_the_loop(kind: str) -> None:
    pool = make_vad_pool(kind)
    pool.give(await pool.take())
    voice = AnswerVoice(pool, lambda at, seconds: None)
    pcm = (speech(SENTENCE) + silence(1.0)) * 3
    longest = 0.0
    for chunk in chunks(pcm):  # CPU time of this thread: a loaded machine preempting the test does not count
        started = time.thread_time()
        voice.hear(chunk)
        longest = max(longest, time.thread_time() - started)
    share = voice.cpu_s / (len(pcm) / BYTES_PER_SECOND)
    print(f"\nVAD {kind}: {100 * share:.2f} % of a core per stream, longest 100 ms chunk {1000 * longest:.1f} ms")
    assert share < 0.05 and longest < 0.05
    await voice.close()
    await pool.aclose()
