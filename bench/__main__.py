"""``python -m bench``: run every benchmark, print the tables, rewrite ``docs/benchmarks.md``.

``python -m bench --quick`` is the smoke run (small N, short windows, about two minutes):
it checks that every benchmark still works, asserts no speed and writes no file.
``--only NAME[,NAME]`` runs some of them (sessions, latency, resume, ingest, store, voice, soak, offline_voice, failover).
``--results FILE`` also keeps a full run's tables in FILE (pickle); ``--render FILE``
rewrites ``docs/benchmarks.md`` from such a file with the current ``bench/notes.py``
prose (no benchmark runs), so the notes and the tables of one run can be brought to agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .common import Result, raise_fd_limit

# issue 23's targets, first in the targets table in this order (matched on the start of the target's text)
HEADLINE = [
    "every session resumed within 10 s of the restart (built-in",
    "every session resumed within 10 s of the restart (one process)",
    "failover:",
    "per session <= 1.15x",
    "1,000 held sessions <= 90 MiB",
    "CPU per text turn <= 0.4x",
    "p99 server share <= 30 ms",
]
ORDER = ["sessions", "latency", "resume", "ingest", "store", "voice", "soak", "offline_voice", "failover"]
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    from importlib import metadata

    for dist in ("python-socketio", "python-engineio", "aiohttp", "pydantic", "openai", "httpx"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} ?")
    try:
        import uvloop  # noqa: F401

        loop = "uvloop installed (the server's event loop)"
    except ImportError:
        loop = "uvloop not installed (default asyncio loop)"
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}; {', '.join(versions)}; {loop}"
    )


def render(results: list[Result], started: dt.datetime, seconds: float, command: str) -> str:
    from .notes import ANALYSIS

    out = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (do not edit by hand: the next run rewrites it). "
        "`python -m bench --quick` is the smoke run CI uses; it asserts no speed and writes nothing.",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{command}` ({seconds:.0f} s)",
        "- every table below comes from this one run; the server runs as `python -m sio_server` (or `python -m "
        "bench.serve`, the same server plus run-time patches) in its own process; the sessions are held by the "
        "official socket.io-client in Node (memory) or python-socketio clients in separate load processes (the "
        "rest); in the latency and ingest benchmarks the server is pinned to CPU 0 and the fake vendors, the load "
        "processes and the coordinator to CPU 1 (`os.sched_setaffinity`); the machine may run other work at the same "
        "time, so compare ratios measured within one table rather than absolute figures across runs",
        "- \"as is\" = the server as it is now; settings the server has are varied by environment "
        "(`WS_COMPRESSION=true`, `TTS_PIPELINING=false`); named patches (`asyncio_loop`, `orjson`, "
        "`socketio_full_imports`, `store_onehop`) are applied at run time by `bench/serve.py` to "
        "compare, and say in the row whether they were adopted",
        "",
        "## Targets",
        "",
        "| benchmark | target | met | figure |",
        "|---|---|---|---|",
    ]
    rows = [(r.name, *t) for r in results for t in r.targets]

    def headline(row: tuple[str, str, bool | None, str]) -> int:
        return next((i for i, start in enumerate(HEADLINE) if row[1].startswith(start)), len(HEADLINE))

    for name, target, met, figure in sorted(rows, key=headline):  # stable: the rest keep the run's order
        mark = "–" if met is None else ("yes" if met else "**no**")
        out.append(f"| {name} | {target} | {mark} | {figure} |")
    out += ["", ANALYSIS.strip(), ""]
    for r in results:
        out += [f"## {r.name}", "", f"({r.seconds:.0f} s)", ""]
        doc = r.method.strip().split("\n", 1)
        if len(doc) > 1:
            out += [doc[1].strip(), ""]
        for t in r.tables:
            out += [f"**{t.title}**", "", t.markdown(), ""]
            out += [f"- {n}" for n in t.notes]
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run; writes no file")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ORDER)}")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--results", default="", help="also keep a full run's tables in this file (pickle)")
    parser.add_argument("--render", default="", help="rewrite docs/benchmarks.md from a --results file; run nothing")
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render, "rb") as f:
            kept = pickle.load(f)
        DOC.write_text(render(kept["results"], kept["started"], kept["seconds"], kept["command"]))
        print(f"wrote {DOC} from {args.render}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or ORDER
    unknown = set(names) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    raise_fd_limit()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    profile_dir = None if args.quick or not shutil.which("py-spy") else Path(tempfile.mkdtemp(prefix="bench-prof-"))
    results: list[Result] = []
    failed = []
    for name in names:
        mod = importlib.import_module(f".{name}", __package__)
        print(f"== {name} ...", flush=True)
        t = time.monotonic()
        try:
            result = mod.run(args.quick, profile_dir) if name in {"latency", "resume"} else mod.run(args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        result.seconds = time.monotonic() - t
        results.append(result)
        for table in result.tables:
            print(table.text(), flush=True)
        for target, met, figure in result.targets:
            print(f"  target: {target}: {'–' if met is None else ('met' if met else 'MISSED')} ({figure})")
        print(f"   ({result.seconds:.1f} s)", flush=True)
    seconds = time.monotonic() - t0
    if profile_dir is not None:
        shutil.rmtree(profile_dir, ignore_errors=True)
    print(f"== done in {seconds:.1f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    if not args.quick and not args.no_write and not failed and names == ORDER:
        command = "python -m bench"
        if args.results:
            with open(args.results, "wb") as f:
                pickle.dump({"results": results, "started": started, "seconds": seconds, "command": command}, f)
        DOC.write_text(render(results, started, seconds, command))
        print(f"wrote {DOC}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
