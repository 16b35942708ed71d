"""``python -m bench.voice_turns [N]``: the response gap of a voice turn, manual vs auto vs auto + preemptive.

Response gap: from the end of the candidate's speech (the last audio chunk
sent) to the first ``tts_chunk`` of the next question. The server runs in this
process (aiohttp) against the fake vendors at fixed latencies: OpenAI's first
token after 700 ms then 40 tokens/s, ElevenLabs' first byte after 200 ms,
Deepgram at once. One session at a time (the gap of one turn, not a load
test), ``N`` turns per mode (default 10):

- *manual*: ``answer_end`` the moment the speech ends (a candidate who presses
  "Done" instantly: manual's best case);
- *auto*: ``turn_detection: auto``, no button: the server ends the answer after
  ``ANSWER_END_SILENCE_MS`` (2500 ms) of silence, with drafting off
  (``PREEMPTIVE_STABLE_MS=0``);
- *auto + preemptive*: the same with ``PREEMPTIVE_STABLE_MS=800``: the next
  question is written during the silence and only spoken after the end.

Prints p50/p99 per mode and the ratio auto / auto + preemptive.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time

from aiohttp import web

from client_adapter import InterviewClient
from sio_server.app import create_app
from sio_server.settings import Settings
from tests.fakes.fake_deepgram import FakeDeepgram
from tests.fakes.fake_elevenlabs import FakeElevenLabs
from tests.fakes.fake_openai import FakeOpenAI

REPLY = "Thanks. Now tell me about a time a system you owned failed under load: what broke, and what did you change?"
ANSWER = "I owned the payment service and we cut the latency by forty percent with a cache. "


async def serve(settings: Settings) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def has_chunk(client: InterviewClient, index: int) -> bool:
    return any(n == "tts_chunk" and d["index"] == index for n, d in client.live_events)


async def one_turn(url: str, mode: str) -> float:
    client = InterviewClient(url)
    await client.connect()
    detection = "manual" if mode == "manual" else "auto"
    await client.start(language="en", mode="voice", audio_format="linear16", max_questions=2, turn_detection=detection)
    await client.wait_for(lambda: any(n == "tts_end" for n, _ in client.live_events), timeout=30)
    data = ANSWER.encode()
    for i in range(0, len(data), 16):
        await client.send_audio(data[i : i + 16])
    spoke = time.perf_counter()
    if mode == "manual":
        await client.answer_voice(1)
    await client.wait_for(lambda: has_chunk(client, 2), timeout=30)  # woken by the event itself
    gap = time.perf_counter() - spoke
    await client.close()
    return gap


async def run_mode(mode: str, turns: int, fakes: tuple[FakeOpenAI, FakeElevenLabs, FakeDeepgram]) -> list[float]:
    openai, elevenlabs, deepgram = fakes
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            _env_file=None,
            data_dir=data_dir,
            openai_api_key="sk-bench",
            openai_base_url=openai.url,
            elevenlabs_api_key=elevenlabs.api_key,
            elevenlabs_base_url=elevenlabs.url,
            deepgram_api_key=deepgram.api_key,
            deepgram_base_url=deepgram.url,
            preemptive_stable_ms=800 if mode == "auto+preemptive" else 0,
            log_level="WARNING",
            rate_events_per_second=1000,
        )
        runner, url = await serve(settings)
        try:
            return [await one_turn(url, mode) for _ in range(turns)]
        finally:
            await runner.cleanup()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(turns: int) -> None:
    async with FakeOpenAI() as openai, FakeElevenLabs() as elevenlabs, FakeDeepgram() as deepgram:
        openai.first_token_delay = 0.7
        openai.tokens_per_second = 40
        elevenlabs.first_byte_delay = 0.2
        openai.replies.extend([REPLY] * (1000))
        results = {mode: await run_mode(mode, turns, (openai, elevenlabs, deepgram)) for mode in ("manual", "auto", "auto+preemptive")}
    print(f"response gap, end of speech -> first tts_chunk of the next question ({turns} turns per mode)")
    print(f"{'mode':<18}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for mode, gaps in results.items():
        print(f"{mode:<18}{pct(gaps, 0.5) * 1000:>10.0f}{pct(gaps, 0.99) * 1000:>10.0f}{statistics.mean(gaps) * 1000:>10.0f}")
    ratio = pct(results["auto"], 0.5) / pct(results["auto+preemptive"], 0.5)
    print(f"auto / auto+preemptive (p50): {ratio:.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
