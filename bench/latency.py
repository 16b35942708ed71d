"""2. Turn latency: answer ack → first ``tts_chunk`` of the next question, against fake vendors at fixed latencies.

The fake OpenAI (first token 300 ms, then 30 tokens/s) and the fake ElevenLabs
(first byte 150 ms) run in their own process; the server runs with
``OPENAI_*`` and ``ELEVENLABS_*`` pointed at them; 100 text-mode sessions
run in two load processes. Every session waits until question 1 has been
spoken (``tts_end``), then all answer at the same moment; the client stamps
the ack's arrival and the first ``tts_chunk`` of the next question. Two rounds
(questions 1 and 2) per session.

How the vendors' floor is computed. *Nominal*: what the fakes' knobs alone
impose, with no server and no contention: pipelined, the first token (300 ms),
then one token every 1/30 s up to the token on which the real
``SentenceSplitter`` (run over the fake's own token pieces of the reply)
closes the first sentence, then TTS's first byte (150 ms); sequential
(``TTS_PIPELINING=false``), the whole reply's tokens, then TTS's first byte.
*Measured*: after the server runs, the same LLM-then-TTS requests are sent to
the same fakes straight from a bare aiohttp client in two load processes, as
many at once as there are sessions (100), pipelined and sequential, two
rounds each; this holds what the fakes themselves cost under that load
(``asyncio.sleep`` overshoot per token, the fake's and the clients' own
scheduling). Server share = a percentile of the measured latency minus the
same percentile of the measured floor. The machine has 2 cores, shared by
the server, the fakes' process and the two load processes, so the share also
holds the time the server waits for a core the fakes and clients are using.

"As is" is the current server (websocket deflate refused, a 32-thread default
executor, aiofiles saves with the version cache). ``store_onehop`` is a
not-adopted variant of the file save, applied at run time by ``bench/serve.py``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import socketio

from .common import (
    NAMESPACE,
    BenchServer,
    LoadPool,
    Profile,
    Result,
    Table,
    check,
    gather_limited,
    ms,
    pct,
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
ONEHOP = "pipelined + store_onehop (not adopted)"


def floors() -> tuple[float, float]:
    """(pipelined, sequential) vendor floor to the first audio byte, seconds."""
    from sio_server.text.sentences import SentenceSplitter
    from tests.fakes.fake_openai import pieces

    tokens = pieces(REPLY)
    splitter = SentenceSplitter()
    first = next(i for i, p in enumerate(tokens) if splitter.push(p))
    step = 1 / TOKENS_PER_SECOND
    return FIRST_TOKEN + first * step + TTS_FIRST_BYTE, FIRST_TOKEN + (len(tokens) - 1) * step + TTS_FIRST_BYTE


async def fakes(ctrl: Any) -> None:
    """The fake vendors' process."""
    from tests.fakes.fake_elevenlabs import FakeElevenLabs
    from tests.fakes.fake_openai import FakeOpenAI

    async with FakeOpenAI() as llm, FakeElevenLabs() as tts:
        llm.first_token_delay = FIRST_TOKEN
        llm.tokens_per_second = TOKENS_PER_SECOND
        llm.replies.extend([REPLY] * 100_000)
        llm.requests = _Discard()  # type: ignore[assignment]
        tts.first_byte_delay = TTS_FIRST_BYTE
        tts.chunk_size = TTS_CHUNK
        tts.requests = _Discard()  # type: ignore[assignment]
        ctrl.send({"openai": llm.url, "elevenlabs": tts.url, "key": tts.api_key})
        await ctrl.recv()


class _Discard(list):  # type: ignore[type-arg]
    """The fakes record every request; a long run does not need them kept."""

    def append(self, item: Any) -> None:
        pass


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
            "start_interview", {"language": "en", "mode": "text", "max_questions": rounds + 2}, namespace=NAMESPACE, timeout=60
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
    pipelining: bool, n: int, rounds: int, vendor: dict[str, str], profile_to: Path | None = None, patches: tuple[str, ...] = ()
) -> dict[str, Any]:
    env = {
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": vendor["openai"],
        "ELEVENLABS_API_KEY": vendor["key"],
        "ELEVENLABS_BASE_URL": vendor["elevenlabs"],
        "TTS_PIPELINING": "true" if pipelining else "false",
    }
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    prof = None
    with BenchServer(env=env, patches=patches) as server:
        procs = 1 if n <= 20 else 2
        with LoadPool(worker, [{"url": server.url, "n": k, "rounds": rounds} for k in split(n, procs)]) as pool:
            ready = pool.recv_all(timeout=180)
            errors += [e for r in ready for e in r["errors"]]
            last: list[Any] = []
            for r in range(rounds):
                if profile_to is not None and r == rounds - 1:
                    prof = Profile(server.pid, 3, profile_to)
                pool.send_all("go")
                last = pool.recv_all(timeout=120)
                for part in last:
                    samples += part["samples"]
                    errors += part["errors"]
        metrics = server.metrics()
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
        "chunk_bytes": sum(p["chunk_bytes"] for p in last),
        "chunks": sum(p["chunks"] for p in last),
    }


def run(quick: bool, profile_dir: Path | None = None) -> Result:
    result = Result("2. Turn latency")
    n, rounds = (10, 1) if quick else (100, 2)
    floor_p, floor_s = floors()
    with LoadPool(fakes, [{}]) as fake_pool:
        vendor = fake_pool.recv_all()[0]
        try:
            pipe = measure(True, n, rounds, vendor, None if quick or profile_dir is None else profile_dir / "latency.raw")
            seq = measure(False, n, rounds, vendor)
            onehop = None if quick else measure(True, n, rounds, vendor, None, ("store_onehop",))
            floor_pipe, floor_seq = measured_floor(vendor, n, rounds)
        finally:
            fake_pool.send_all("stop")
    table = Table(
        f"Answer ack → first tts_chunk, {n} concurrent text sessions, {rounds} round(s) each (ms)",
        ["mode", "samples", "p50", "p95", "p99", "floor nominal", "floor measured p50 / p99",
         "server share p50", "p95", "p99", "ack p50 / p99"],
    )
    shares = {}
    variants = [(PIPE, pipe, floor_p, floor_pipe)]
    if onehop is not None:
        variants.append((ONEHOP, onehop, floor_p, floor_pipe))
    variants.append(("sequential (TTS_PIPELINING=false)", seq, floor_s, floor_seq))
    for name, r, nominal, fl in variants:
        lat = r["lat"]
        # server share: each percentile of the measured latency minus the same percentile of the measured floor
        share = {q: pct(lat, q) - pct(fl, q) for q in (50, 95, 99)}
        shares[name] = share
        table.rows.append(
            [name, r["samples"], ms(pct(lat, 50)), ms(pct(lat, 95)), ms(pct(lat, 99)), ms(nominal),
             f"{ms(pct(fl, 50))} / {ms(pct(fl, 99))}", ms(share[50]), ms(share[95]), ms(share[99]),
             f"{ms(pct(r['ack'], 50))} / {ms(pct(r['ack'], 99))}"]
        )
        if r["errors"]:
            table.notes.append(f"{name}: errors {r['errors']}")
        if r["fallbacks"] or r["tts_dropped"]:
            table.notes.append(f"{name}: LLM fallbacks {r['fallbacks']:.0f}, TTS sentences dropped {r['tts_dropped']:.0f}")
    table.notes.append(
        f"fakes: LLM first token {FIRST_TOKEN * 1000:.0f} ms, {TOKENS_PER_SECOND:.0f} tokens/s, a {len(REPLY.split())}-word "
        f"3-sentence question; TTS first byte {TTS_FIRST_BYTE * 1000:.0f} ms, {TTS_CHUNK}-byte chunks. "
        "ack = answer_text emit → its ack at the client (includes the session save). floor nominal = the fakes' knobs "
        "(first token + tokens to the first closed sentence / whole reply + TTS first byte); floor measured = the same "
        "requests straight from a bare aiohttp client, as many at once, in the same machine state (asyncio.sleep "
        "overshoot per token in the fake adds to it). server share = percentile of measured - same percentile of floor."
    )
    result.tables.append(table)
    if pipe["profile"] is not None:
        t = profile_table("py-spy of the server during the last pipelined round (3 s)", pipe["profile"])
        if t is not None:
            result.tables.append(t)
    share99 = shares[PIPE][99]
    speedup = pct(seq["lat"], 50) / pct(pipe["lat"], 50)
    check(result, "p99 server share <= 30 ms (pipelined, as is)", share99 <= 0.030, f"{share99 * 1000:.1f} ms")
    if onehop is not None:
        s2 = shares[ONEHOP][99]
        check(result, "p99 server share <= 30 ms (pipelined + store_onehop)", s2 <= 0.030, f"{s2 * 1000:.1f} ms")
    check(result, "pipelined >= 2x faster to first audio than sequential (p50)", speedup >= 2.0, f"{speedup:.2f}x")
    result.method = __doc__ or ""
    return result
