"""``/bench/tracemalloc``: what a server process allocated between two moments, by source line.

Installed by ``bench/serve.py`` (patch ``tracemalloc``) and ``bench/bare_server.py``
(``BENCH_TRACEMALLOC=1``), never by the product. ``?mark=1`` keeps a snapshot;
``?diff=1`` answers the growth since that snapshot as
``[{"where", "bytes", "count"}]``, largest first, after a ``gc.collect()``.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from aiohttp import web

FRAMES = 8
_marks: dict[str, Any] = {}


def start() -> None:
    """Trace allocations from now on (call before the server allocates its sockets)."""
    tracemalloc.start(FRAMES)


def _where(trace_frames: Any) -> str:
    """Who made the allocation: the innermost frame in ``sio_server`` or a third-party package (pydantic's
    validators skipped, to name their caller), as ``package/file.py:line``; ``run_app`` stands for the event
    loop's own objects (transports, handles)."""
    frames = list(trace_frames)[::-1]  # tracemalloc lists the oldest frame first
    for frame in frames:
        name = frame.filename
        if ("/sio_server/" in name or "site-packages/" in name) and "/pydantic" not in name:
            return _short(name, frame.lineno)
    return _short(frames[0].filename, frames[0].lineno)


def _short(filename: str, lineno: int) -> str:
    for marker in ("site-packages/", "/sio_server/", "/lib/python3.11/", "/bench/"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            prefix = {"/sio_server/": "sio_server/", "/lib/python3.11/": "", "/bench/": "bench/"}.get(marker, "")
            return f"{prefix}{tail}:{lineno}"
    return f"{filename}:{lineno}"


async def route(request: web.Request) -> web.Response:
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    if request.query.get("mark"):
        _marks["mark"] = snapshot
        return web.json_response({"marked": True})
    if request.query.get("full"):  # the largest growing tracebacks, whole
        stats = [s for s in snapshot.compare_to(_marks["mark"], "traceback") if s.size_diff > 0][:25]
        return web.json_response([
            {"bytes": s.size_diff, "count": s.count_diff, "frames": [_short(f.filename, f.lineno) for f in s.traceback]}
            for s in stats
        ])
    grouped: dict[str, list[int]] = {}
    for stat in snapshot.compare_to(_marks["mark"], "traceback"):
        if stat.size_diff <= 0:
            continue
        row = grouped.setdefault(_where(stat.traceback), [0, 0])
        row[0] += stat.size_diff
        row[1] += stat.count_diff
    rows = [{"where": k, "bytes": v[0], "count": v[1]} for k, v in grouped.items()]
    return web.json_response(sorted(rows, key=lambda r: -r["bytes"])[:60])


def install(app: web.Application) -> None:
    app.router.add_get("/bench/tracemalloc", route)
