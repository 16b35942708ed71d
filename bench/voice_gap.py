"""The response gap of a voice turn: manual vs auto vs auto + preemptive generation (``python -m bench.voice_gap [N]``).

Response gap: from the end of the candidate's speech (the last speech chunk
sent) to the arrival of the first ``tts_chunk`` of the next question. The
server runs as ``python -m sio_server`` in its own process against the fake
vendors (in this process) at fixed latencies: OpenAI's first token after
700 ms then 40 tokens/s, ElevenLabs' first byte after 200 ms, Deepgram at once.
One session per mode and setting answers ``N`` questions one after the other
(the gap of one turn, not a load test). The candidate's speech is the fake
Deepgram's text-as-audio (``linear16``); after it, as a browser's open
microphone does, the client streams silence in real time (100 ms frames of
zeros) until the answer is closed:

- *manual*: ``answer_end`` the moment the speech ends (a candidate who presses
  "Done" instantly: manual's best case), no silence;
- *auto*: ``turn_detection: auto``, no button: the server ends the answer after
  ``ANSWER_END_SILENCE_MS`` of silence (the fake's ``UtteranceEnd`` or the
  server's own timer, whichever comes first), drafting off
  (``PREEMPTIVE_STABLE_MS=0``);
- *auto + preemptive*: the same with ``PREEMPTIVE_STABLE_MS=800``: the next
  question is written during the silence and only spoken after the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any, Self

from client_adapter import InterviewClient
from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs
from sio_server.devtools.fakes.fake_openai import FakeOpenAI

from .common import SERVER_CPUS, BenchServer, pct

MODES = ("manual", "auto", "auto+preemptive")
REPLY = "Thanks. Now tell me about a time a system you owned failed under load: what broke, and what did you change?"
ANSWER = "I owned the payment service and we cut the latency by forty percent with a cache. "
FRAME_S = 0.1  # one silence frame: 100 ms of 16 kHz 16-bit PCM
PREEMPTIVE_STABLE_MS = 800


class Fakes:
    """The fake vendors at the benchmark's fixed latencies, started in this process's event loop."""

    def __init__(self) -> None:
        self.openai, self.elevenlabs, self.deepgram = FakeOpenAI(), FakeElevenLabs(), FakeDeepgram()
        self.openai.first_token_delay = 0.7
        self.openai.tokens_per_second = 40
        self.elevenlabs.first_byte_delay = 0.2
        self._stack = contextlib.AsyncExitStack()

    def env(self) -> dict[str, str]:
        return {
            "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": self.openai.url,
            "ELEVENLABS_API_KEY": self.elevenlabs.api_key, "ELEVENLABS_BASE_URL": self.elevenlabs.url,
            "DEEPGRAM_API_KEY": self.deepgram.api_key, "DEEPGRAM_BASE_URL": self.deepgram.url,
        }  # fmt: skip

    async def __aenter__(self) -> Self:
        for fake in (self.openai, self.elevenlabs, self.deepgram):
            await self._stack.enter_async_context(fake)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


def _first_chunks(client: InterviewClient) -> dict[int, float]:
    """Arrival time (perf_counter) of each question's first ``tts_chunk``, recorded by a handler on arrival."""
    arrived: dict[int, float] = {}
    client.on("tts_chunk", lambda d: arrived.setdefault(int(d["index"]), time.perf_counter()))
    return arrived


def _has(client: InterviewClient, event: str, index: int) -> bool:
    return any(n == event and isinstance(d, dict) and d.get("index") == index for n, d in client.live_events)


async def _stream_silence(client: InterviewClient) -> None:
    """Silence in real time, as a microphone sends it: each 100 ms frame once its 100 ms have passed."""
    frame = bytes(round(32000 * FRAME_S))
    next_at = time.perf_counter()
    while True:
        next_at += FRAME_S
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await client.send_audio(frame)


async def _turn(client: InterviewClient, first: dict[int, float], mode: str, index: int) -> float:
    """Answer question ``index`` once it has been spoken; the gap to the next question's first chunk (s)."""
    await client.wait_for(lambda: _has(client, "tts_end", index), timeout=30)
    data = ANSWER.encode()
    for i in range(0, len(data), 16):
        await client.send_audio(data[i : i + 16])
    spoke = time.perf_counter()
    if mode == "manual":
        await client.answer_end(index)
    else:
        silence = asyncio.create_task(_stream_silence(client), name="bench-silence")
        try:
            await client.wait_for(lambda: _has(client, "answer_ended", index), timeout=30)
        finally:
            silence.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await silence
    await client.wait_for(lambda: index + 1 in first, timeout=30)
    return first[index + 1] - spoke


async def session_gaps(url: str, mode: str, turns: int) -> list[float]:
    """One session answering ``turns`` questions in ``mode``; the response gap of each turn (s)."""
    client = InterviewClient(url)
    await client.connect()
    first = _first_chunks(client)
    detection = "manual" if mode == "manual" else "auto"
    try:
        await client.start(
            language="en", mode="voice", audio_format="linear16", max_questions=turns + 1, turn_detection=detection
        )
        return [await _turn(client, first, mode, index) for index in range(1, turns + 1)]
    finally:
        await client.close()


async def measure(fakes: Fakes, silence_ms: int, preemptive: bool, turns: int) -> dict[str, list[float]]:
    """Gaps (s) by mode on one server with ``ANSWER_END_SILENCE_MS=silence_ms``: auto+preemptive with drafting on,
    manual and auto with it off."""
    env = {
        **fakes.env(),
        "ANSWER_END_SILENCE_MS": str(silence_ms),
        "ANSWER_END_NOTICE_MS": str(min(1000, silence_ms // 2)),
        "PREEMPTIVE_STABLE_MS": str(PREEMPTIVE_STABLE_MS if preemptive else 0),
        "RATE_EVENTS_PER_SECOND": "1000",
    }
    server = BenchServer(env=env, cpus=SERVER_CPUS)
    await asyncio.to_thread(server.start)  # the fakes on this loop keep answering meanwhile
    try:
        modes = ("auto+preemptive",) if preemptive else ("manual", "auto")
        return {mode: await asyncio.wait_for(session_gaps(server.url, mode, turns), 60 + 15 * turns) for mode in modes}
    finally:
        await asyncio.to_thread(server.close)


async def measure_all(
    silences: tuple[int, ...], turns: int, together: bool = False
) -> dict[int, dict[str, list[float]]]:
    """``{silence_ms: {mode: gaps}}`` for each setting of ``ANSWER_END_SILENCE_MS``; one server after the other,
    or all at once with ``together`` (the smoke run: quicker, the sessions then share the cores)."""
    configs = [(silence, preemptive) for silence in silences for preemptive in (False, True)]
    async with Fakes() as fakes:
        fakes.openai.replies.extend([REPLY] * 1000)
        runs = [measure(fakes, silence, preemptive, turns) for silence, preemptive in configs]
        if together:
            parts = await asyncio.gather(*runs)
        else:
            parts = [await run for run in runs]
    out: dict[int, dict[str, list[float]]] = {silence: {} for silence in silences}
    for (silence, _), part in zip(configs, parts):
        out[silence].update(part)
    return out


def summary(gaps: dict[str, list[float]], silence_ms: int) -> dict[str, Any]:
    """p50/p99 per mode (ms) and the ratios auto / auto+preemptive: whole gap and after the silence window."""
    p50 = {mode: pct(gaps[mode], 50) * 1000 for mode in MODES}
    p99 = {mode: pct(gaps[mode], 99) * 1000 for mode in MODES}
    after = {mode: p50[mode] - silence_ms for mode in ("auto", "auto+preemptive")}
    return {
        "p50": p50,
        "p99": p99,
        "ratio": p50["auto"] / p50["auto+preemptive"],
        "after": after,
        "after_ratio": after["auto"] / after["auto+preemptive"] if after["auto+preemptive"] > 0 else float("inf"),
    }


def main(turns: int) -> None:
    results = asyncio.run(measure_all((2500, 1000), turns))
    for silence, gaps in results.items():
        s = summary(gaps, silence)
        print(f"ANSWER_END_SILENCE_MS={silence}: end of speech -> first tts_chunk of the next question ({turns} turns)")
        for mode in MODES:
            print(f"  {mode:<18}p50 {s['p50'][mode]:>7.0f} ms   p99 {s['p99'][mode]:>7.0f} ms")
        print(f"  auto / auto+preemptive (p50): {s['ratio']:.2f}x; after the silence window: {s['after_ratio']:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
