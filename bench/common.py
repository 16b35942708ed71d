"""Shared pieces of the benchmarks: server processes, load processes, RSS, metrics, percentiles, tables."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sio_server.devtools.process import DEV_ADMIN_TOKEN, ROOT, ServerProcess, free_port, rss_of, wait_healthy  # noqa: F401  (re-exported to the benchmarks)
from sio_server.vendors.plugins import vendor_env_names

NAMESPACE = "/interview"
# permessage-deflate as browsers offer it (client_max_window_bits 15). python-socketio's
# AsyncClient offers nothing by default, so a load client must ask for it to look like a browser.
BROWSER_DEFLATE = {"compress": 15}


def raise_fd_limit() -> None:
    """Let this process and its children hold thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- server processes -----------------------------------------------------------


class TempServer(ServerProcess):
    """A server process living in a temporary folder, removed by :meth:`close` (SIGTERM, then SIGKILL)."""

    def __init__(
        self, env: dict[str, str] | None = None, command: Sequence[str] | None = None, port: int | None = None,
        cpus: set[int] | None = None,
    ) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-", dir=os.environ.get("BENCH_TMP")))
        super().__init__(self.tmp / "data", env=env, command=command, port=port, cpus=cpus)

    def start(self, timeout: float = 30.0) -> "TempServer":
        super().start(timeout)
        return self

    def metrics(self) -> dict[str, float]:
        return scrape_metrics(self.url)

    def close(self) -> None:
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(8)
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "TempServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class BenchServer(TempServer):
    """``python -m sio_server`` (or ``python -m bench.serve`` with runtime patches) in its own process.

    ``patches`` names the proposed server changes of :mod:`bench.serve` to apply
    on top of the unmodified code (empty: the server exactly as it is).
    """

    def __init__(
        self, env: dict[str, str] | None = None, patches: Sequence[str] = (), quiet: bool = True,
        cpus: set[int] | None = None,
    ) -> None:
        base = {"LOG_LEVEL": "WARNING" if quiet else "INFO", "LOG_FORMAT": "text", "ADMIN_TOKEN": DEV_ADMIN_TOKEN,
                "EVENT_LOOP": "auto",  # the product's default (not the suite's asyncio): the patches choose the loop
                # every benchmark client comes from 127.0.0.1: lift the per-address caps of issue 13
                "SESSIONS_PER_CLIENT_PER_MINUTE": "1000000", "MAX_SOCKETS_PER_CLIENT": "1000000",
                "MAX_ACTIVE_SESSIONS": "1000000", "MAX_STORED_SESSIONS": "1000000",
                "MAX_STORED_SESSIONS_PER_CLIENT": "1000000",
                # the process's LLM gate (64 at once by default) made a third of the turns at 100 sessions
                # fallback questions, with no LLM stream: the turn benchmarks measure the turn with its stream
                "LLM_MAX_CONCURRENT": "1000000", "LLM_CALLS_PER_MINUTE": "1000000"}
        scrubbed = {*vendor_env_names(), "DATABASE_URL", "REDIS_URL"}  # every vendor's variables, from the registry
        for key in list(os.environ):  # never inherit vendor keys or a database from the caller's shell
            if key.upper() in scrubbed:
                base[key] = ""
        self.patches = list(patches)
        if self.patches:
            base["BENCH_PATCHES"] = ",".join(self.patches)
        command = [sys.executable, "-m", "bench.serve"] if self.patches else None
        super().__init__(env={**base, **(env or {})}, command=command, cpus=cpus)


BARE_COMMANDS = {
    "python": [sys.executable, "-m", "bench.bare_server"],
    "node": ["node", str(ROOT / "bench" / "node" / "bare_server.mjs")],
}
BARE_NAMES = {"python": "bare python-socketio on aiohttp", "node": "bare Node socket.io 4.8.4"}


class BareServer(TempServer):
    """A Socket.IO server without application logic: ``bench/bare_server.py`` or ``bench/node/bare_server.mjs``."""

    def __init__(self, kind: str, env: dict[str, str] | None = None, cpus: set[int] | None = None) -> None:
        port = free_port()
        self.kind = kind
        super().__init__(env=env, command=[*BARE_COMMANDS[kind], str(port)], port=port, cpus=cpus)

    def stats(self) -> dict[str, int]:
        """The handler's counters: ``chunks``, ``bytes``, ``dropped``."""
        import json

        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as r:
            return json.load(r)


# The server on one CPU, everything else (fakes, load clients, this process) on the other, when there are two.
PINNED = (os.cpu_count() or 1) >= 2
SERVER_CPUS: set[int] | None = {0} if PINNED else None
LOAD_CPUS: set[int] | None = {1} if PINNED else None


@contextlib.contextmanager
def pinned_to(cpus: set[int] | None) -> Iterator[None]:
    """Run this process (and the processes it starts meanwhile) on ``cpus``; None changes nothing."""
    mine = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, mine)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (``/proc/PID/stat``), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+([0-9.eE+-]+|NaN|\+Inf)$")


def scrape_metrics(url: str) -> dict[str, float]:
    """``/metrics`` as ``{"name{labels}": value}``."""
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def histogram_quantile(metrics: dict[str, float], name: str, q: float) -> float | None:
    """Quantile of a Prometheus histogram, linear inside the bucket (as PromQL's histogram_quantile)."""
    buckets = []
    for key, value in metrics.items():
        m = re.fullmatch(rf'{name}_bucket\{{le="([^"]+)"\}}', key)
        if m:
            buckets.append((float(m.group(1)), value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return buckets[-1][0]


# -- load processes ---------------------------------------------------------------


class Ctrl:
    """The load worker's end of its pipe, usable from asyncio."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def send(self, obj: Any) -> None:
        self.conn.send(obj)

    async def recv(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)


def _worker_main(target: Callable[..., Any], conn: Any, kwargs: dict[str, Any]) -> None:
    raise_fd_limit()
    try:
        asyncio.run(target(Ctrl(conn), **kwargs))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        conn.close()


class LoadPool:
    """``n`` load processes, each running ``asyncio.run(target(ctrl, **kwargs_i))``.

    The coordinator talks to every worker through a pipe: :meth:`send_all`,
    :meth:`recv_all` (one message from each worker, in worker order).
    """

    def __init__(self, target: Callable[..., Any], kwargs: Iterable[dict[str, Any]]) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for kw in kwargs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(target, child, kw), daemon=True)
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)

    def send_all(self, obj: Any) -> None:
        for p in self.pipes:
            p.send(obj)

    def recv_all(self, timeout: float = 120.0) -> list[Any]:
        out = []
        deadline = time.monotonic() + timeout
        for p, proc in zip(self.pipes, self.procs):
            while not p.poll(0.1):
                if time.monotonic() > deadline:
                    raise TimeoutError("a load process did not answer in time")
                if not proc.is_alive() and not p.poll(0):
                    raise RuntimeError(f"load process {proc.pid} died ({proc.exitcode})")
            msg = p.recv()
            if isinstance(msg, tuple) and msg and msg[0] == "error":
                raise RuntimeError(f"load process failed:\n{msg[1]}")
            out.append(msg)
        return out

    def close(self) -> None:
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)

    def __enter__(self) -> "LoadPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NodeHolders:
    """Node processes of one ``bench/node/*.mjs`` holder script, each given ``URL COUNT *args``.

    They talk in lines: :meth:`say` writes one to every process's stdin, :meth:`read_all` reads one
    JSON line from each (in process order).
    """

    def __init__(self, script: Path, url: str, counts: Sequence[int], *args: str) -> None:
        self.procs = [
            subprocess.Popen(["node", str(script), url, str(k), *args], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
            for k in counts
        ]

    def say(self, line: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            if p.poll() is not None:
                continue  # exited (killed, or done): nothing reads its stdin
            p.stdin.write(line + "\n")
            p.stdin.flush()

    def read_all(self) -> list[dict[str, Any]]:
        out = []
        for p in self.procs:
            line = p.stdout.readline() if p.stdout else ""
            if not line:
                raise RuntimeError(f"holder {p.pid} exited ({p.wait()})")
            out.append(json.loads(line))
        return out

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)


def split(n: int, parts: int) -> list[int]:
    """``n`` as ``parts`` near-equal counts."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


async def gather_limited(coros: Iterable[Any], limit: int) -> list[Any]:
    """Run coroutines with at most ``limit`` at a time; exceptions are returned, not raised."""
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> Any:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


# -- numbers and tables ---------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0–100) by the nearest-rank method on sorted data (linear interpolation)."""
    if not values:
        return float("nan")
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    k = (len(data) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


MiB = 1024 * 1024


def mib(n: float) -> str:
    return f"{n / MiB:.1f}"


def ms(seconds: float | None) -> str:
    return "–" if seconds is None or seconds != seconds else f"{seconds * 1000:.1f}"


@dataclass
class Table:
    """A result table: title, header, rows, and notes printed under it."""

    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"| {' | '.join(self.header)} |", f"|{'|'.join('---' for _ in self.header)}|"]
        lines += [f"| {' | '.join(str(c) for c in row)} |" for row in self.rows]
        return "\n".join(lines)

    def text(self) -> str:
        cells = [self.header] + [[str(c) for c in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [self.title, fmt.format(*self.header), fmt.format(*("-" * w for w in widths))]
        out += [fmt.format(*r) for r in cells[1:]]
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)


@dataclass
class Result:
    """What one benchmark hands back: its tables, its targets (met or not) and prose for the doc."""

    name: str
    tables: list[Table] = field(default_factory=list)
    targets: list[tuple[str, bool | None, str]] = field(default_factory=list)  # (target, met, figure)
    method: str = ""
    seconds: float = 0.0


def check(result: Result, target: str, met: bool | None, figure: str) -> None:
    result.targets.append((target, met, figure))


# -- profiling ---------------------------------------------------------------------


class Profile:
    """``py-spy record`` of a process for a while (raw collapsed stacks), summarised as top frames.

    Does nothing (``available`` False) when py-spy is not installed: profiling
    is for the full run on a developer's machine, never required.
    """

    def __init__(self, pid: int, seconds: float, out: Path, rate: int = 200) -> None:
        self.out = out
        self.available = shutil.which("py-spy") is not None
        self.proc: subprocess.Popen[bytes] | None = None
        if self.available:
            self.proc = subprocess.Popen(
                ["py-spy", "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", str(rate), "-f", "raw",
                 "-o", str(out), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )

    def wait(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _stacks(self) -> list[tuple[list[str], int]]:
        """Event-loop stacks only (the main thread's, under ``run_app``; asyncio's ``_run_once`` too): worker threads
        blocked in fsync are not loop time. uvloop's loop is C code, so its stacks have no ``_run_once`` frame."""
        self.wait()
        if not self.out.exists():
            return []
        out = []
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit() or ("_run_once (" not in stack and "run_app (" not in stack):
                continue
            frames = [f for f in stack.split(";") if f]
            if frames and "select (" in frames[-1]:
                continue  # the loop waiting for I/O: idle
            out.append((frames, int(count)))
        return out

    def top(self, n: int = 12) -> list[tuple[str, float, float]]:
        """``(frame, self %, inclusive %)`` of the busiest event-loop frames."""
        stacks = self._stacks()
        total = sum(c for _, c in stacks)
        if not total:
            return []
        self_counts: dict[str, int] = {}
        incl: dict[str, int] = {}
        for frames, c in stacks:
            self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + c
            for f in set(frames):
                incl[f] = incl.get(f, 0) + c
        ranked = sorted(self_counts.items(), key=lambda kv: -kv[1])[:n]
        return [(f, 100 * c / total, 100 * incl.get(f, 0) / total) for f, c in ranked]

    def top_inclusive(self, n: int = 12, contains: str = "") -> list[tuple[str, float]]:
        """Busiest event-loop frames by inclusive share, optionally only those containing ``contains``."""
        stacks = self._stacks()
        total = sum(c for _, c in stacks)
        incl: dict[str, int] = {}
        for frames, c in stacks:
            for f in set(frames):
                if contains in f and "_run_once" not in f and "run_forever" not in f and "_run (" not in f:
                    incl[f] = incl.get(f, 0) + c
        return [(f, 100 * c / total) for f, c in sorted(incl.items(), key=lambda kv: -kv[1])[:n]] if total else []

    def busy(self, seconds: float, rate: int = 200) -> float:
        """Share of the wall time the event loop was busy (non-idle loop samples / samples expected)."""
        return sum(c for _, c in self._stacks()) / (seconds * rate)


def profile_table(title: str, prof: Profile, n: int = 10) -> Table | None:
    rows = prof.top(n)
    if not rows:
        return None
    t = Table(title, ["frame (py-spy, event-loop thread)", "self %", "inclusive %"])
    for f, s, i in rows:
        t.rows.append([f"`{f[:100]}`", f"{s:.1f}", f"{i:.1f}"])
    incl = prof.top_inclusive(12)
    t.notes.append("share of the busy event-loop samples (waits in epoll excluded). Largest inclusive frames: " +
                   "; ".join(f"`{f[:70]}` {p:.0f}%" for f, p in incl))
    return t
