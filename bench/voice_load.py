"""Voice sessions of the latency benchmark: the kinds of voice turn, their server settings, their load worker, their table.

A voice turn: the candidate's answer as ``linear16`` audio, 3,200-byte chunks
(100 ms) sent in real time, then the end of the answer, then the next
question (the fake LLM and TTS of the text rows). The fake Deepgram runs
scripted (``sio_server/devtools/fakes/fake_deepgram.py``: every stream "hears" the same
18-word answer, one word per ``script_bytes_per_word`` bytes of audio, so the
words are spread evenly over the 2 s of speech): an interim result for every
chunk while a word is pending, a final every four words or at the sentence's
end, ``Finalize``/``CloseStream`` answered as Deepgram does. Scripted, the fake
sends no ``SpeechStarted``/``UtteranceEnd`` (those need the fake's text-as-audio
mode, whose cost per chunk grows with the silence it has to scan: it cannot keep
up with 100 sessions on one core), so the hands-free end below comes from the
server's own silence timer over the results' timing, the path every STT vendor
without those events takes. The kinds:

- *manual*: ``answer_end`` right after the last chunk of speech;
- *hands-free*: ``turn_detection: auto``; after the speech the client sends
  silent chunks (zeros) in real time for the silence window but its last chunk
  (a microphone left open; stopping 100 ms early keeps a chunk from reaching
  the server after the end and opening the next answer's stream, which would
  make the scripted fake hear the next answer early), then waits for
  ``answer_ended``; the server ends the answer after ``ANSWER_END_SILENCE_MS``
  of silence, 1,000 ms here (the smallest it accepts; the default is 2,500),
  with ``ANSWER_END_NOTICE_MS`` 500 and drafting off (``PREEMPTIVE_STABLE_MS=0``);
- *hands-free + preemptive*: the same with ``PREEMPTIVE_STABLE_MS=300``: the
  next question is drafted once the transcript has been stable for 300 ms;
- *manual + barge-in*: as *manual*, but at the first ``tts_chunk`` of the next
  question the client sends ``interrupt`` for it and then the first 0.5 s of
  its next answer (words within ``FALSE_INTERRUPTION_MS`` confirm the
  interruption: ``tts_end`` with ``interrupted: true``); the rest of that
  answer is the next round's audio, so every turn carries the same 2 s of
  audio and one interruption.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import socketio

from .common import NAMESPACE, Result, Table, check, gather_limited, ms, pct

CHUNK = 3200  # bytes: 100 ms of 16 kHz 16-bit mono
CHUNK_S = 0.1
SPEECH_S = 2.0  # seconds of speech per answer (the quick run: 1)
BARGE_CHUNKS = 5  # the speech sent right after an interrupt
ANSWER = "We had a queue backlog, so I added backpressure and alerts, and the latency recovered within a day."
VOICE = bytes(range(1, 201)) * (CHUNK // 200)  # a chunk of speech (scripted: its bytes are counted, not decoded)
END_SILENCE_MS = 1000
NOTICE_MS = 500
PREEMPTIVE_MS = 300
ENDED_WAIT_S = 15.0  # a hands-free answer not ended this long after the speech is an error


@dataclass(frozen=True)
class VoiceKind:
    """One kind of voice turn: how the answer ends and what the server is set to."""

    detection: str  # turn_detection: "manual" or "auto"
    preemptive_ms: int = 0
    barge: bool = False


KINDS = {
    "voice, manual end": VoiceKind("manual"),
    "voice, hands-free": VoiceKind("auto"),
    "voice, hands-free + preemptive": VoiceKind("auto", preemptive_ms=PREEMPTIVE_MS),
    "voice, manual + barge-in": VoiceKind("manual", barge=True),
}


def server_env(kind: str, vendor: dict[str, str]) -> dict[str, str]:
    """The server's settings for ``kind`` against the fakes' process."""
    return {
        "DEEPGRAM_API_KEY": vendor["deepgram_key"],
        "DEEPGRAM_BASE_URL": vendor["deepgram"],
        "ANSWER_END_SILENCE_MS": str(END_SILENCE_MS),
        "ANSWER_END_NOTICE_MS": str(NOTICE_MS),
        "PREEMPTIVE_STABLE_MS": str(KINDS[kind].preemptive_ms),
    }


def script_stt(stt: Any, speech_s: float) -> None:
    """Script the fake Deepgram: every stream hears :data:`ANSWER`, its last word in the last chunk of ``speech_s``."""
    stt.script = [ANSWER]
    stt.script_bytes_per_word = CHUNK * round(speech_s / CHUNK_S) // len(ANSWER.split())


@dataclass
class _Sess:
    c: socketio.AsyncClient
    seen: dict[tuple[str, int], float] = field(default_factory=dict)  # (event, index) -> first arrival
    waits: dict[tuple[str, int], asyncio.Event] = field(default_factory=dict)
    tally: Counter[str] = field(default_factory=Counter)

    def mark(self, name: str, index: int) -> None:
        self.seen.setdefault((name, index), time.monotonic())
        self._event(name, index).set()

    def _event(self, name: str, index: int) -> asyncio.Event:
        return self.waits.setdefault((name, index), asyncio.Event())

    async def wait(self, name: str, index: int, timeout: float = 60) -> float:
        await asyncio.wait_for(self._event(name, index).wait(), timeout)
        return self.seen[(name, index)]

    async def stream(self, chunks: list[bytes]) -> float:
        """Send ``chunks`` in real time; returns when the last one was sent."""
        start = time.monotonic()
        sent = start
        for i, chunk in enumerate(chunks):
            await asyncio.sleep(max(0.0, start + i * CHUNK_S - time.monotonic()))
            await self.c.emit("audio_chunk", chunk, namespace=NAMESPACE)
            sent = time.monotonic()
        return sent

    async def silence_until_ended(self, index: int) -> float:
        """The microphone open over the silence window (silent chunks in real time), then wait for ``answer_ended``."""
        start = time.monotonic()
        for i in range(1, END_SILENCE_MS // int(CHUNK_S * 1000)):
            with contextlib.suppress(TimeoutError):  # woken by answer_ended, else at the next chunk's time
                await asyncio.wait_for(self._event("ended", index).wait(), max(0.0, start + i * CHUNK_S - time.monotonic()))
            if ("ended", index) in self.seen:
                break
            await self.c.emit("audio_chunk", bytes(CHUNK), namespace=NAMESPACE)
        try:
            return await self.wait("ended", index, ENDED_WAIT_S)
        except TimeoutError:
            raise TimeoutError(f"answer {index} was not ended {ENDED_WAIT_S:.0f} s after the speech") from None


async def _open(url: str, kind: VoiceKind, rounds: int, speech: list[bytes]) -> _Sess:
    s = _Sess(socketio.AsyncClient(reconnection=False, request_timeout=60))

    async def on_chunk(data: Any) -> None:
        s.mark("chunk", int(data["index"]))

    async def on_end(data: Any) -> None:
        s.mark("tts_end", int(data["index"]))
        if data.get("interrupted"):
            s.tally["tts_end interrupted: true"] += 1

    async def on_ended(data: Any) -> None:
        s.mark("ended", int(data["index"]))

    async def on_warning(data: Any) -> None:
        s.tally[f"warning {data.get('code')}"] += 1

    for name, handler in (("tts_chunk", on_chunk), ("tts_end", on_end), ("answer_ended", on_ended), ("warning", on_warning)):
        s.c.on(name, handler, namespace=NAMESPACE)
    await s.c.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=60)
    config = {"language": "en", "mode": "voice", "audio_format": "linear16", "turn_detection": kind.detection,
              "max_questions": rounds + 2}
    ack = await s.c.call("start_interview", config, namespace=NAMESPACE, timeout=60)
    if not ack.get("ok") or ack.get("mode") != "voice":
        raise RuntimeError(f"start_interview: {ack}")
    await s.wait("tts_end", 1)
    if kind.barge:  # as every round leaves the next answer: its first words sent, its STT stream open
        await s.stream(speech[:BARGE_CHUNKS])
    return s


async def _turn(s: _Sess, kind: VoiceKind, index: int, speech: list[bytes]) -> tuple[float, float]:
    """One answer and the next question: (answer closed, end of the speech → first tts_chunk), seconds."""
    await asyncio.sleep(random.uniform(0, CHUNK_S))  # the sessions' chunks spread over the 100 ms
    spoke = await s.stream(speech[BARGE_CHUNKS:] if kind.barge else speech)
    if kind.detection == "manual":
        ack = await s.c.call("answer_end", {"index": index}, namespace=NAMESPACE, timeout=60)
        if not ack.get("ok"):
            raise RuntimeError(f"answer_end: {ack}")
        closed = time.monotonic() - spoke
    else:
        closed = await s.silence_until_ended(index) - spoke
    first = await s.wait("chunk", index + 1)
    if kind.barge:
        ack = await s.c.call("interrupt", {"index": index + 1}, namespace=NAMESPACE, timeout=60)
        s.tally["interrupts sent"] += 1
        s.tally["acked interrupted: true"] += bool(ack.get("interrupted"))
        await s.stream(speech[:BARGE_CHUNKS])
    await s.wait("tts_end", index + 1)
    return closed, first - spoke


async def worker(ctrl: Any, url: str, n: int, rounds: int, kind: str, speech_s: float = SPEECH_S) -> None:
    """``n`` voice sessions of ``kind``, answers of ``speech_s`` seconds; one answer each per ``go`` (see the module docstring)."""
    how = KINDS[kind]
    speech = [VOICE] * round(speech_s / CHUNK_S)
    res = await gather_limited((_open(url, how, rounds, speech) for _ in range(n)), 25)
    clients = [r for r in res if isinstance(r, _Sess)]
    ctrl.send({"ready": len(clients), "errors": [repr(r) for r in res if isinstance(r, BaseException)][:3]})
    for index in range(1, rounds + 1):
        await ctrl.recv()
        for s in clients:
            s.tally.clear()
        res = await asyncio.gather(*(_turn(s, how, index, speech) for s in clients), return_exceptions=True)
        tally: Counter[str] = Counter()
        for s in clients:
            tally.update(s.tally)
        ctrl.send(
            {
                "samples": [r for r in res if not isinstance(r, BaseException)],
                "errors": [repr(r) for r in res if isinstance(r, BaseException)][:3],
                "tally": dict(tally),
            }
        )
    for s in clients:
        await s.c.disconnect()


def report(
    result: Result, text_name: str, text: dict[str, Any], runs: dict[str, dict[str, Any]], rounds: int, speech_s: float,
    checks: bool,
) -> None:
    """Add the table "CPU per turn by kind" and (``checks``) a report-only target per kind; no turn of a kind: raise."""
    broken = [kind for kind, r in runs.items() if not r["samples"]]
    if broken:
        raise RuntimeError(f"no voice turn completed for {broken}: {[runs[k]['errors'] for k in broken]}")
    result.tables.append(cpu_table(text_name, text, runs, rounds, speech_s))
    for kind, r in runs.items() if checks else ():
        check(result, f"(report only) server CPU per voice turn, {kind}", None,
              f"{r['cpu_per_turn'] * 1000:.1f} ms ({r['cpu_per_turn'] / text['cpu_per_turn']:.2f}x the text turn, "
              f"{r['n']} sessions)")


def cpu_table(text_name: str, text: dict[str, Any], runs: dict[str, dict[str, Any]], rounds: int, speech_s: float) -> Table:
    """Server CPU per turn: the text turn, then each kind of voice turn with its ratio to it."""
    table = Table(
        f"CPU per turn by kind, {rounds} round(s) each; server pinned to CPU 0 as above",
        ["kind, sessions", "turns", "end of answer → first tts_chunk p50", "p99", "answer closed p50 / p99",
         "server CPU ms per turn", "× text turn", "LLM / TTS requests per turn", "STT streams per turn"],
    )
    base = text["cpu_per_turn"]
    rows = [(f"text, {text_name}", text, [a + b for a, b in zip(text["ack"], text["lat"])])]
    rows += [(f"{kind}, {r['n']}", r, r["lat"]) for kind, r in runs.items()]
    for name, r, lat in rows:
        calls, turns = r["calls"], max(r["samples"], 1)
        table.rows.append(
            [name, r["samples"], ms(pct(lat, 50)), ms(pct(lat, 99)), f"{ms(pct(r['ack'], 50))} / {ms(pct(r['ack'], 99))}",
             f"{r['cpu_per_turn'] * 1000:.1f}", f"{r['cpu_per_turn'] / base:.2f}",
             f"{calls.get('llm', 0) / turns:.2f} / {calls.get('tts', 0) / turns:.2f}",
             f"{calls.get('stt', 0) / turns:.2f}"]
        )
        if r["errors"]:
            table.notes.append(f"{name}: errors {r['errors']}")
        if r["tally"]:
            table.notes.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["tally"].items())))
    table.notes.append(
        "end of answer: text = the answer_text emit; voice = the emit of the last audio chunk holding speech, so for the "
        f"hands-free kinds the figure includes the {END_SILENCE_MS} ms silence window (ANSWER_END_SILENCE_MS, 1000 for "
        "this benchmark; default 2500) and, with preemptive, the wait for the draft. answer closed: "
        "text = answer_text → its ack; manual = answer_end → its ack (STT finalize + save); hands-free = end of speech → "
        f"answer_ended. A voice turn = {speech_s:g} s of linear16 audio in {CHUNK}-byte chunks in real "
        "time (plus 0.9 s of silent chunks, hands-free), the fake STT's results (one per chunk while a word is pending) "
        "relayed as transcript events, the end of the answer, its save, the next question's LLM stream, its TTS and tts_chunk "
        "emits (barge-in: plus an interrupt, the held audio dropped and the TTS cancelled: the sentences not yet "
        "requested never are, hence fewer TTS requests and tts_chunks). LLM requests per turn > 1 = drafts discarded; "
        "STT streams = Deepgram connections opened (one per answer). CPU as in the table above."
    )
    return table
