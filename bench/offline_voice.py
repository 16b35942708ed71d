"""8. Offline voice: no key, questions spoken by espeak-ng and English answers transcribed by pocketsphinx.

A server with no key and `OFFLINE_STT=true` (the `[offline-stt]` extra), pinned to CPU 0 with its decoder
processes (children inherit the pinning); the clients (Python adapter, one process) on CPU 1. For N = 1, 2,
3, 4 … concurrent sessions (`OFFLINE_STT_STREAMS=N`), each starts an English voice interview with
`audio_format: linear16` and `turn_detection: manual`, waits for question 1's audio (espeak-ng, `tts_end`),
then streams the same 12 s answer (espeak-ng speech resampled to 16 kHz, `sio_server/devtools/speech16k.py`)
in 100 ms chunks in real time, and sends `answer_end` after its last chunk. Measured: the CPU seconds of the
server and its decoders (`/proc`) while question 1 is spoken (TTS) and while the answers stream (STT), per
second of audio and session; the resident memory of the server and of the decoders; the time from the last
chunk to the `answer_end` ack (the final transcript: a decoder that keeps up answers within tens of ms, one
that falls behind answers when it has caught up); the share of the answer's words recognised.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from client_adapter import InterviewClient
from sio_server.devtools.speech16k import chunks, linear16, silence, words_recognised

from .common import LOAD_CPUS, SERVER_CPUS, BenchServer, Result, Table, check, cpu_seconds, median, pinned_to, rss_of

ANSWER = (
    "My last project was a mobile app for booking doctors and it had one million users. "
    "I think the most important thing is to listen to the customer. "
    "I am a software engineer and I have worked in this field for five years."
)
SESSIONS = (1, 2, 3, 4)
KEEPS_UP_S = 1.0  # a final later than this after the audio ends: the decoders no longer keep up in real time


def tree(pid: int) -> list[int]:
    """``pid`` and its child processes (the decoder workers)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return [pid, *kids]


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            total += cpu_seconds(p)
        except OSError:
            pass  # ended meanwhile
    return total


async def settled(pid: int, decoders: int) -> None:
    """Until ``pid`` has ``decoders`` children and the whole tree has been idle for half a second."""
    last = tree_cpu(pid)
    while True:
        await asyncio.sleep(0.5)
        now = tree_cpu(pid)
        if len(tree(pid)) > decoders and now - last < 0.02:
            return
        last = now


async def one_session(
    url: str, text: str, audio: list[bytes], spoken: asyncio.Barrier, go: asyncio.Event
) -> dict[str, float]:
    client = InterviewClient(url)
    await client.connect()
    try:
        await client.start(language="en", mode="voice", audio_format="linear16", turn_detection="manual", max_questions=2)
        question = await client.next_question()
        await client.wait_for(
            lambda: next((d for n, d in client.live_events if n == "tts_end" and d["index"] == 1), None), timeout=60
        )
        await spoken.wait()
        await client.send_audio(silence(0.1))  # the answer's stream opens: its decoder loads before the measurement
        await go.wait()
        started = time.monotonic()
        for i, chunk in enumerate(audio):
            await client.send_audio(chunk)
            await asyncio.sleep(max(0.0, started + (i + 1) * 0.1 - time.monotonic()))
        sent = time.monotonic()
        ended = await client.answer_end(question["index"])
        return {"final_s": time.monotonic() - sent, "recognised": words_recognised(text, ended["transcript"])}
    finally:
        await client.close()


async def measure(n: int, text: str, audio: list[bytes]) -> dict[str, float]:
    with pinned_to(SERVER_CPUS):
        server = BenchServer({"OFFLINE_STT": "true", "OFFLINE_STT_STREAMS": str(n)}).start()
    try:
        spoken = asyncio.Barrier(n + 1)
        go = asyncio.Event()
        base_cpu = tree_cpu(server.pid)
        base_rss = rss_of(server.pid)
        sessions = [asyncio.create_task(one_session(server.url, text, audio, spoken, go)) for _ in range(n)]
        async with asyncio.timeout(120):
            await spoken.wait()  # every question 1 spoken
        tts_cpu = tree_cpu(server.pid) - base_cpu
        await settled(server.pid, n)  # the decoders loaded (0.4-0.9 s of CPU each)
        answer_cpu0 = tree_cpu(server.pid)
        go.set()
        await asyncio.sleep(len(audio) * 0.1 / 2)
        pids = tree(server.pid)
        rss = [rss_of(p) for p in pids]
        async with asyncio.timeout(120):
            results = await asyncio.gather(*sessions)
        stt_cpu = tree_cpu(server.pid) - answer_cpu0
    finally:
        server.close()
    audio_s = len(audio) * 0.1
    return {
        "n": n,
        "tts_cpu_per_session_s": tts_cpu / n,
        "stt_cpu_per_audio_s": stt_cpu / (n * audio_s),
        "server_rss_mib": rss[0] / 2**20,
        "server_growth_mib": (rss[0] - base_rss) / 2**20,
        "decoder_rss_mib": sum(rss[1:]) / max(1, len(rss) - 1) / 2**20,
        "decoders": len(rss) - 1,
        "final_p50_s": median([r["final_s"] for r in results]),
        "final_max_s": max(r["final_s"] for r in results),
        "recognised": median([r["recognised"] for r in results]),
    }


def run(quick: bool) -> Result:
    result = Result("8. Offline voice")
    text = ANSWER if not quick else ANSWER.split(". ")[0]
    audio = chunks(silence(0.3) + linear16(text) + silence(0.5))
    rows = []
    with pinned_to(LOAD_CPUS):
        for n in (1,) if quick else SESSIONS:
            rows.append(asyncio.run(measure(n, text, audio)))
    audio_s = len(audio) * 0.1
    t = Table(
        f"Offline voice sessions on one core ({audio_s:.1f} s answer, streamed in real time)",
        ["sessions", "TTS CPU per question, ms", "STT CPU per s of audio", "final after the audio, p50 / max ms",
         "words recognised (p50)", "server RSS MiB (growth)", "decoders × RSS MiB"],
    )
    for r in rows:
        t.rows.append([
            r["n"], f"{1000 * r['tts_cpu_per_session_s']:.0f}", f"{r['stt_cpu_per_audio_s']:.2f} s",
            f"{1000 * r['final_p50_s']:.0f} / {1000 * r['final_max_s']:.0f}", f"{r['recognised']:.2f}",
            f"{r['server_rss_mib']:.0f} (+{r['server_growth_mib']:.0f})", f"{r['decoders']} × {r['decoder_rss_mib']:.0f}",
        ])
    per_session = median([r["stt_cpu_per_audio_s"] for r in rows])
    held = [r["n"] for r in rows if r["final_max_s"] <= KEEPS_UP_S]
    t.notes.append(
        "TTS CPU: the server's CPU from start_interview to question 1's tts_end (the offline interviewer and "
        "espeak-ng with MP3); STT CPU: the server's and its decoders' CPU while the answers streamed, per second of "
        "audio and session (1.00 s = a whole core); the server and decoders share CPU 0."
    )
    result.tables.append(t)
    check(
        result,
        "offline voice sessions one core holds (final within 1 s of the audio's end)",
        None,
        f"{max(held, default=0)} of {rows[-1]['n']} tried; STT {per_session:.2f} core per real-time session "
        f"(≈ {1 / per_session:.1f} sessions a core)",
    )
    result.method = __doc__ or ""
    return result
