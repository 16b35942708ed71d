"""2. Turn latency: answer ack → first ``tts_chunk`` of the next question, server on its own CPU.

The fake OpenAI (first token 300 ms, then 30 tokens/s) and the fake ElevenLabs
(first byte 150 ms) run in their own process; the server runs with
``OPENAI_*`` and ``ELEVENLABS_*`` pointed at them. 25, 50, 100 and 200 text-mode
sessions (spoken questions) run in two load processes. Every session waits until
question 1 has been spoken (``tts_end``), then all answer at the same moment; the
client stamps the ack's arrival and the first ``tts_chunk`` of the next question.
Two rounds (questions 1 and 2) per session. The server process is pinned to CPU 0
and everything else (this coordinator, the fakes, the load processes) to CPU 1
with ``os.sched_setaffinity``. CPU per turn = the server's user + system time
over the rounds (``/proc/PID/stat``) divided by the turns answered. At 100
sessions the same rounds run with TTS_PIPELINING=false (sequential) and with the
``bench/serve.py`` patches ``asyncio_loop`` (uvloop hidden) and ``orjson``.

Voice turns ("CPU per turn by kind"): 100 voice sessions per kind (quick: 4, 1 s
answers), the same fakes plus a scripted fake Deepgram, the same rounds: all answer
at once with 2 s of ``linear16`` audio in 100 ms chunks in real time, ended by
``answer_end`` (manual), by the server after 1,000 ms of silence (hands-free;
``ANSWER_END_SILENCE_MS``, default 2,500), the same with ``PREEMPTIVE_STABLE_MS=300``,
or by ``answer_end`` with one barge-in a turn (``interrupt`` at the next question's
first ``tts_chunk``, then speech). Latency: end of the candidate's audio → first
``tts_chunk`` of the next question (hands-free: the silence window included). CPU per
turn as for text, and its ratio to the text turn; ``bench/voice_load.py`` has the details.

How the vendors' floor is computed. *Nominal*: what the fakes' knobs alone
impose, with no server and no contention: pipelined, the first token (300 ms),
then one token every 1/30 s up to the token on which the real
``SentenceSplitter`` (run over the fake's own token pieces of the reply)
closes the first sentence, then TTS's first byte (150 ms); sequential
(``TTS_PIPELINING=false``), the whole reply's tokens, then TTS's first byte.
*Measured*: after the server runs, the same LLM-then-TTS requests are sent to
the same fakes straight from a bare aiohttp client, as many at once as there
are sessions, on the load CPU; this holds what the fakes themselves cost under
that load. Server share = a percentile of the measured latency minus the same
percentile of the measured floor.

Against the same run's floors (issue 23): at 50 sessions (quick: the one level) the
same rounds also run against the server of a baseline commit (``BENCH_BASELINE``,
default ``3fbf949``, the code before issue 23's round; its tree is taken with
``git archive`` into a temporary folder and served from there) and against the
bare python-socketio server of ``bench/bare_server.py`` answering the same events
with no application logic (the ack, ``question``, the same number and size of
``tts_chunk``s per question as the server sent, ``tts_end``); CPU per turn is
stated against both, and p99 latency against the measured vendor floor's p99.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

from . import voice_load
from .common import (
    LOAD_CPUS,
    NAMESPACE,
    PINNED,
    SERVER_CPUS,
    ROOT,
    BareServer,
    BenchServer,
    LoadPool,
    Profile,
    Result,
    Table,
    check,
    cpu_seconds,
    gather_limited,
    ms,
    pct,
    pinned_to,
    profile_table,
    split,
)

REPLY = (
    "Thanks, that gives me a clear picture of your role. Now tell me about a time a production system you owned "
    "failed under load: what broke, how did you find the cause, and what did you change afterwards so that it would "
    "not happen again? Please be specific about the numbers you watched."
)
FIRST_TOKEN = 0.300
TOKENS_PER_SECOND = 30.0
TTS_FIRST_BYTE = 0.150
TTS_CHUNK = 2048
PIPE = "pipelined (as is)"
SEQ = "sequential (TTS_PIPELINING=false)"
VARIANT_PATCHES = ("asyncio_loop", "orjson")
BASELINE = os.environ.get("BENCH_BASELINE", "3fbf949")  # the commit before issue 23's round
BARE = "bare python-socketio, the same events"


def baseline_tree(commit: str) -> Path:
    """``commit``'s files in a new temporary folder (``git archive``); the caller removes it."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp


def baseline_command(root: Path) -> list[str]:
    """``python -m sio_server`` of the tree at ``root`` (first on sys.path, ahead of the current folder)."""
    code = (f"import sys, runpy; sys.path.insert(0, {str(root)!r}); sys.argv = ['sio_server']; "
            "runpy.run_module('sio_server', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code]


def floors() -> tuple[float, float]:
    """(pipelined, sequential) vendor floor to the first audio byte, seconds."""
    from sio_server.devtools.fakes.fake_openai import pieces
    from sio_server.text.sentences import SentenceSplitter

    tokens = pieces(REPLY)
    splitter = SentenceSplitter()
    first = next(i for i, p in enumerate(tokens) if splitter.push(p))
    step = 1 / TOKENS_PER_SECOND
    return FIRST_TOKEN + first * step + TTS_FIRST_BYTE, FIRST_TOKEN + (len(tokens) - 1) * step + TTS_FIRST_BYTE


async def fakes(ctrl: Any, speech_s: float) -> None:
    """The fake vendors' process: answers ``"counts"`` with the requests each fake got so far, until ``"stop"``."""
    from sio_server.devtools.fakes.fake_deepgram import FakeDeepgram
    from sio_server.devtools.fakes.fake_elevenlabs import FakeElevenLabs
    from sio_server.devtools.fakes.fake_openai import FakeOpenAI

    async with FakeOpenAI() as llm, FakeElevenLabs() as tts, FakeDeepgram() as stt:
        llm.first_token_delay = FIRST_TOKEN
        llm.tokens_per_second = TOKENS_PER_SECOND
        llm.replies.extend([REPLY] * 100_000)
        llm.requests = _Discard()  # type: ignore[assignment]
        tts.first_byte_delay = TTS_FIRST_BYTE
        tts.chunk_size = TTS_CHUNK
        tts.requests = _Discard()  # type: ignore[assignment]
        stt.connections = _Discard()  # type: ignore[assignment]
        voice_load.script_stt(stt, speech_s)
        ctrl.send({"openai": llm.url, "elevenlabs": tts.url, "key": tts.api_key, "deepgram": stt.url,
                   "deepgram_key": stt.api_key})
        while await ctrl.recv() != "stop":
            ctrl.send({"llm": llm.requests.n, "tts": tts.requests.n, "stt": stt.handshakes})  # type: ignore[attr-defined]


class _Discard(list):  # type: ignore[type-arg]
    """The fakes record every request; a long run does not need them kept, only counted (``n``)."""

    n = 0

    def append(self, item: Any) -> None:
        self.n += 1


async def worker(ctrl: Any, url: str, n: int, rounds: int) -> None:
    clients = []

    class Sess:
        def __init__(self) -> None:
            self.c = socketio.AsyncClient(reconnection=False, request_timeout=60)
            self.first_chunk: dict[int, float] = {}
            self.spoken: dict[int, asyncio.Event] = {}
            self.chunk_bytes = 0
            self.chunks = 0

        def spoken_event(self, index: int) -> asyncio.Event:
            return self.spoken.setdefault(index, asyncio.Event())

    async def open_one() -> None:
        s = Sess()

        async def on_chunk(data: Any) -> None:
            s.first_chunk.setdefault(int(data["index"]), time.monotonic())
            s.chunk_bytes += len(data["audio"])
            s.chunks += 1

        async def on_end(data: Any) -> None:
            s.spoken_event(int(data["index"])).set()

        s.c.on("tts_chunk", on_chunk, namespace=NAMESPACE)
        s.c.on("tts_end", on_end, namespace=NAMESPACE)
        await s.c.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=60)
        ack = await s.c.call(
            "start_interview",
            {"language": "en", "mode": "text", "max_questions": rounds + 2, "speak_questions": True},
            namespace=NAMESPACE,
            timeout=60,
        )
        if not ack.get("ok"):
            raise RuntimeError(f"start_interview: {ack}")
        await asyncio.wait_for(s.spoken_event(1).wait(), 60)
        clients.append(s)

    res = await gather_limited((open_one() for _ in range(n)), 25)
    errors = [repr(r) for r in res if isinstance(r, BaseException)]
    ctrl.send({"ready": len(clients), "errors": errors[:3]})
    for index in range(1, rounds + 1):
        await ctrl.recv()

        async def answer(s: Sess) -> tuple[float, float]:
            loop = asyncio.get_running_loop()
            acked: asyncio.Future[float] = loop.create_future()
            sent = time.monotonic()
            await s.c.emit(
                "answer_text",
                {"index": index, "text": "We had a queue backlog; I added backpressure and alerts."},
                namespace=NAMESPACE,
                callback=lambda *a: acked.done() or acked.set_result(time.monotonic()),
            )
            t_ack = await asyncio.wait_for(acked, 60)
            await asyncio.wait_for(s.spoken_event(index + 1).wait(), 60)
            return t_ack - sent, s.first_chunk[index + 1] - t_ack

        res = await asyncio.gather(*(answer(s) for s in clients), return_exceptions=True)
        ctrl.send(
            {
                "samples": [r for r in res if not isinstance(r, BaseException)],
                "errors": [repr(r) for r in res if isinstance(r, BaseException)][:3],
                "chunk_bytes": sum(s.chunk_bytes for s in clients),
                "chunks": sum(s.chunks for s in clients),
            }
        )
    for s in clients:
        await s.c.disconnect()


async def floor_worker(ctrl: Any, vendor: dict[str, str], n: int, rounds: int) -> None:
    """The vendors alone: the same requests straight from a minimal aiohttp client, ``n`` at once.

    Streams the fake LLM's reply through the real ``SentenceSplitter``; at the
    first sentence (pipelined) or at the end (sequential) asks the fake TTS and
    stamps its first audio byte. What this takes is the measured floor.
    """
    import json

    import aiohttp

    from sio_server.text.sentences import SentenceSplitter

    async def one(http: aiohttp.ClientSession, pipelined: bool) -> float:
        started = time.monotonic()
        body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "next question"}]}
        splitter = SentenceSplitter()
        parts: list[str] = []
        sentence = None
        async with http.post(f"{vendor['openai']}/chat/completions", json=body, headers={"Authorization": "Bearer k"}) as r:
            async for line in r.content:
                if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
                    continue
                delta = json.loads(line[6:])["choices"]
                piece = delta[0]["delta"].get("content") if delta else None
                if not piece:
                    continue
                parts.append(piece)
                if pipelined:
                    done = splitter.push(piece)
                    if done:
                        sentence = done[0]
                        break
        text = sentence or "".join(parts)
        url = f"{vendor['elevenlabs']}/v1/text-to-speech/voice/stream"
        async with http.post(url, json={"text": text}, headers={"xi-api-key": vendor["key"]}) as r:
            await r.content.readany()
            return time.monotonic() - started

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for _ in range(rounds):
            mode = await ctrl.recv()
            res = await asyncio.gather(*(one(http, mode == "pipelined") for _ in range(n)))
            ctrl.send(res)


def measured_floor(vendor: dict[str, str], n: int, rounds: int) -> tuple[list[float], list[float]]:
    procs = 1 if n <= 20 else 2
    out: dict[str, list[float]] = {"pipelined": [], "sequential": []}
    with LoadPool(floor_worker, [{"vendor": vendor, "n": k, "rounds": 2 * rounds} for k in split(n, procs)]) as pool:
        for _ in range(rounds):
            for mode in ("pipelined", "sequential"):
                pool.send_all(mode)
                for part in pool.recv_all(timeout=120):
                    out[mode] += part
    return out["pipelined"], out["sequential"]


def measure(
    pipelining: bool, n: int, rounds: int, vendor: dict[str, str], profile_to: Path | None = None, patches: tuple[str, ...] = (),
    cpus: set[int] | None = None, voice: dict[str, Any] | None = None, counts: Callable[[], dict[str, int]] | None = None,
    root: Path | None = None, bare: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``n`` text sessions (or voice sessions: ``voice`` = the kwargs of :func:`bench.voice_load.worker`), ``rounds`` turns each.

    ``root``: the server of that tree (a baseline commit); ``bare``: the bare python-socketio server with this env.
    """
    env = {
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": vendor["openai"],
        "ELEVENLABS_API_KEY": vendor["key"],
        "ELEVENLABS_BASE_URL": vendor["elevenlabs"],
        "TTS_PIPELINING": "true" if pipelining else "false",
        **(voice_load.server_env(voice["kind"], vendor) if voice else {}),
    }
    load = voice_load.worker if voice else worker
    tally: Counter[str] = Counter()
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    prof = None
    if bare is not None:
        server: BenchServer | BareServer = BareServer("python", env={**env, **bare}, cpus=cpus)
    else:
        server = BenchServer(env={**env, **({"PYTHONPATH": str(root)} if root else {})}, patches=patches, cpus=cpus)
        if root is not None:
            server.argv = baseline_command(root)
    with server:
        procs = 1 if n <= 20 else 2
        with LoadPool(load, [{"url": server.url, "n": k, "rounds": rounds, **(voice or {})} for k in split(n, procs)]) as pool:
            ready = pool.recv_all(timeout=180)
            errors += [e for r in ready for e in r["errors"]]
            last: list[Any] = []
            calls0 = counts() if counts else {}
            cpu0 = cpu_seconds(server.pid)
            for r in range(rounds):
                if profile_to is not None and r == rounds - 1:
                    prof = Profile(server.pid, 3, profile_to)
                pool.send_all("go")
                last = pool.recv_all(timeout=120)
                for part in last:
                    samples += part["samples"]
                    errors += part["errors"]
                    tally.update(part.get("tally", {}))
            cpu = cpu_seconds(server.pid) - cpu0
            calls = {k: v - calls0[k] for k, v in counts().items()} if counts else {}
        metrics = server.metrics() if bare is None else {}
    lat = [s[1] for s in samples]
    return {
        "n": sum(r["ready"] for r in ready),
        "samples": len(lat),
        "ack": [s[0] for s in samples],
        "lat": lat,
        "errors": errors,
        "fallbacks": sum(v for k, v in metrics.items() if k.startswith("interview_llm_fallbacks_total")),
        "tts_dropped": metrics.get("interview_tts_dropped_sentences_total", 0),
        "profile": prof,
        "cpu_per_turn": cpu / max(len(lat), 1),
        "chunk_bytes": sum(p.get("chunk_bytes", 0) for p in last),
        "chunks": sum(p.get("chunks", 0) for p in last),
        "calls": calls,
        "tally": dict(tally),
    }


LEVELS = (25, 50, 100, 200)
TARGET_LEVEL = 50  # the sessions of the p99 share target and of the CPU rows against the baseline and the bare server
VOICE_QUICK = 4  # voice sessions per kind in the quick run (the full run: the middle level)


def floor_runs(
    asis: dict[str, Any], n: int, rounds: int, vendor: dict[str, str], cpus: set[int] | None
) -> dict[str, dict[str, Any]]:
    """The rounds of ``asis`` against the baseline commit's server and the bare python-socketio server."""
    out: dict[str, dict[str, Any]] = {}
    try:
        tree = baseline_tree(BASELINE)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"   baseline {BASELINE} not measured: {exc}", flush=True)
    else:
        try:
            out[f"baseline {BASELINE}, {n}"] = measure(True, n, rounds, vendor, cpus=cpus, root=tree)
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    questions = max(asis["n"] * (rounds + 1), 1)  # question 1 and one per round, each session
    env = {"BARE_TURN_CHUNKS": str(max(round(asis["chunks"] / questions), 1)),
           "BARE_TURN_CHUNK_BYTES": str(asis["chunk_bytes"] // max(asis["chunks"], 1))}
    out[f"{BARE}, {n}"] = measure(True, n, rounds, vendor, cpus=cpus, bare=env)
    return out


def ratio_checks(result: Result, runs: dict[str, dict[str, Any]], floor: list[float], n: int, quick: bool) -> None:
    """CPU per turn against the baseline commit and the bare server, p99 latency against the vendor floor (one run)."""
    asis, base, bare = runs[f"{PIPE}, {n}"], runs.get(f"baseline {BASELINE}, {n}"), runs[f"{BARE}, {n}"]
    cpu, floor99 = asis["cpu_per_turn"], pct(floor, 99)
    if base is not None:
        ratio = cpu / base["cpu_per_turn"]
        check(result, f"CPU per text turn <= 0.4x the baseline {BASELINE}'s, same run ({n} sessions)",
              None if quick else ratio <= 0.4,
              f"{cpu * 1000:.1f} ms vs baseline {base['cpu_per_turn'] * 1000:.1f} ms = {ratio:.2f}x")
    bare_cpu = max(bare["cpu_per_turn"], 1e-6)
    figure = f"{cpu * 1000:.1f} / {bare_cpu * 1000:.1f} ms = {cpu / bare_cpu:.1f}x"
    if base is not None:
        figure += f" (baseline {base['cpu_per_turn'] / bare_cpu:.1f}x)"
    check(result, f"(report only) CPU per text turn / {BARE} ({n} sessions)", None, figure)
    figure = f"{pct(asis['lat'], 99) / floor99:.2f}x (share {_share(asis, floor, 99) * 1000:.1f} ms)"
    if base is not None:
        figure += f"; baseline {pct(base['lat'], 99) / floor99:.2f}x ({_share(base, floor, 99) * 1000:.1f} ms)"
    check(result, f"(report only) p99 answer → first tts_chunk / the vendor floor's p99 ({n} sessions)", None, figure)


def _share(r: dict[str, Any], floor: list[float], q: float) -> float:
    """Server share at percentile ``q``: the measured latency's percentile minus the floor's."""
    return pct(r["lat"], q) - pct(floor, q)


def run(quick: bool, profile_dir: Path | None = None) -> Result:
    result = Result("2. Turn latency")
    rounds = 1 if quick else 2
    speech_s = 1.0 if quick else voice_load.SPEECH_S
    levels = (10,) if quick else LEVELS
    target = levels[0] if quick else TARGET_LEVEL
    server_cpus = SERVER_CPUS
    floor_p, floor_s = floors()
    runs: dict[str, dict[str, Any]] = {}
    voice_runs: dict[str, dict[str, Any]] = {}
    floors_measured: dict[int, tuple[list[float], list[float]]] = {}
    with pinned_to(LOAD_CPUS):  # the fakes and the load processes started here inherit it
        with LoadPool(fakes, [{"speech_s": speech_s}]) as fake_pool:
            vendor = fake_pool.recv_all()[0]

            def counts() -> dict[str, int]:
                fake_pool.send_all("counts")
                return fake_pool.recv_all()[0]

            try:
                for n in levels:
                    prof = None if quick or profile_dir is None or n != 100 else profile_dir / "latency.raw"
                    runs[f"{PIPE}, {n}"] = measure(True, n, rounds, vendor, prof, cpus=server_cpus, counts=counts)
                    if n == target:  # the same rounds against the baseline commit and the bare server, right after
                        runs.update(floor_runs(runs[f"{PIPE}, {n}"], n, rounds, vendor, server_cpus))
                    floors_measured[n] = measured_floor(vendor, n, rounds)
                mid = levels[min(2, len(levels) - 1)]
                if not quick:
                    runs[f"{SEQ}, {mid}"] = measure(False, mid, rounds, vendor, cpus=server_cpus)
                for patch in () if quick else VARIANT_PATCHES:
                    runs[f"{PIPE} + {patch}, {mid}"] = measure(
                        True, mid, rounds, vendor, patches=(patch,), cpus=server_cpus
                    )
                for kind in voice_load.KINDS:
                    voice_runs[kind] = measure(True, VOICE_QUICK if quick else mid, rounds, vendor, cpus=server_cpus,
                                               voice={"kind": kind, "speech_s": speech_s}, counts=counts)
            finally:
                fake_pool.send_all("stop")
    table = Table(
        f"Answer ack → first tts_chunk, text sessions with spoken questions, {rounds} round(s) each (ms); "
        + ("server pinned to CPU 0, fakes and load to CPU 1" if PINNED else "not pinned (one CPU)"),
        ["mode, sessions", "samples", "p50", "p99", "floor nominal", "floor measured p50 / p99",
         "server share p50", "p99", "ack p50 / p99", "server CPU ms per turn"],
    )
    for name, r in runs.items():
        n = int(name.rsplit(", ", 1)[1])
        sequential = name.startswith(SEQ)
        fl = floors_measured[n][1 if sequential else 0]
        table.rows.append(
            [name, r["samples"], ms(pct(r["lat"], 50)), ms(pct(r["lat"], 99)), ms(floor_s if sequential else floor_p),
             f"{ms(pct(fl, 50))} / {ms(pct(fl, 99))}", ms(_share(r, fl, 50)), ms(_share(r, fl, 99)),
             f"{ms(pct(r['ack'], 50))} / {ms(pct(r['ack'], 99))}", f"{r['cpu_per_turn'] * 1000:.1f}"]
        )
        if r["errors"]:
            table.notes.append(f"{name}: errors {r['errors']}")
        if r["fallbacks"] or r["tts_dropped"]:
            table.notes.append(f"{name}: LLM fallbacks {r['fallbacks']:.0f}, TTS sentences dropped {r['tts_dropped']:.0f}")
    ratio_checks(result, runs, floors_measured[target][0], target, quick)
    table.notes.append(
        f"baseline {BASELINE} = the server of that commit (git archive), the same rounds; {BARE} = "
        "bench/bare_server.py acking the answer and sending question, the as-is row's tts_chunks (count and size "
        "per question) and tts_end, no application logic: the CPU floor of the same wire traffic"
    )
    table.notes.append(
        f"fakes: LLM first token {FIRST_TOKEN * 1000:.0f} ms, {TOKENS_PER_SECOND:.0f} tokens/s, a {len(REPLY.split())}-word "
        f"3-sentence question; TTS first byte {TTS_FIRST_BYTE * 1000:.0f} ms, {TTS_CHUNK}-byte chunks. "
        "ack = answer_text emit → its ack at the client (includes the session save). floor nominal = the fakes' knobs "
        "(first token + tokens to the first closed sentence / whole reply + TTS first byte); floor measured = the same "
        "requests straight from a bare aiohttp client, as many at once, on the load CPU. server share = percentile of "
        "measured - same percentile of floor. CPU per turn = the server process's user + system time over the rounds "
        "(/proc/PID/stat) / answered turns (a turn: the answer, its save, the next question's LLM stream, its TTS and "
        "the tts_chunk emits). Pinning with os.sched_setaffinity; the machine is shared with other work, so CPU 0 is "
        "the server's alone only within this benchmark."
    )
    result.tables.append(table)
    pipe = runs.get(f"{PIPE}, 100")
    if pipe is not None and pipe["profile"] is not None:
        t = profile_table("py-spy of the server during the last pipelined round, 100 sessions (3 s)", pipe["profile"])
        if t is not None:
            result.tables.append(t)
    if not quick:
        shares = {n: _share(runs[f"{PIPE}, {n}"], floors_measured[n][0], 99) for n in levels}
        check(result, "p99 server share <= 30 ms at 50 sessions (server on its own core)", shares[50] <= 0.030,
              f"{shares[50] * 1000:.1f} ms")
        fit = [n for n in levels if shares[n] <= 0.050]
        check(result, "(report only) sessions per core: most sessions with p99 share <= 50 ms", None,
              f"{max(fit) if fit else '< 25'} (of {', '.join(map(str, levels))})")
        speedup = pct(runs[f"{SEQ}, {mid}"]["lat"], 50) / pct(runs[f"{PIPE}, {mid}"]["lat"], 50)
        check(result, "pipelined >= 2x faster to first audio than sequential (p50)", speedup >= 2.0, f"{speedup:.2f}x")
        base = runs[f"{PIPE}, {mid}"]["cpu_per_turn"]
        for patch in VARIANT_PATCHES:
            change = runs[f"{PIPE} + {patch}, {mid}"]["cpu_per_turn"] / base - 1
            check(result, f"(report only) {patch}: server CPU per turn against as is ({mid} sessions)", None,
                  f"{change * 100:+.0f}%")
    voice_load.report(result, f"{PIPE}, {mid}", runs[f"{PIPE}, {mid}"], voice_runs, rounds, speech_s, checks=not quick)
    result.method = __doc__ or ""
    return result
