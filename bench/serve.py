"""``python -m bench.serve``: the unmodified ``python -m sio_server`` plus the proposed changes named in ``BENCH_PATCHES``.

The benchmarks measure the server as it is; to measure a proposed server change
*before* it is made in ``sio_server`` (which the benchmarks do not edit), this
launcher applies it at run time, exactly as the patch text in
``docs/benchmarks.md`` describes it:

``ws_nodeflate``
    Refuse websocket permessage-deflate: an outermost aiohttp middleware drops
    the client's ``Sec-WebSocket-Extensions`` offer on the Engine.IO path, so
    aiohttp's ``WebSocketResponse`` (created by engineio's aiohttp driver with
    the default ``compress=True``) answers without the extension and keeps no
    zlib state per connection. (Proposed as a ``WS_COMPRESSION`` setting,
    default false.)
``store_onehop``
    ``FileSessionStore.save`` in one worker-thread hop: the version check, the
    temp write, fsync, rename and folder fsync run as one synchronous function
    under ``asyncio.to_thread`` (instead of about ten aiofiles calls, each a
    round trip through the default executor that DNS look-ups of the vendor
    clients share).
``malloc_trim``
    After every TTL sweep, ``gc.collect()`` and glibc ``malloc_trim(0)``, so the
    memory of ended sessions goes back to the OS.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os
from typing import Any

from aiohttp import hdrs, web

import sio_server.app as app_module

PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p.strip()}
KNOWN = {"ws_nodeflate", "malloc_trim", "debug", "store_onehop"}


@web.middleware
async def no_ws_deflate(request: web.Request, handler: Any) -> web.StreamResponse:
    """Hide the client's permessage-deflate offer from the websocket handshake."""
    if request.path.startswith("/socket.io") and hdrs.SEC_WEBSOCKET_EXTENSIONS in request.headers:
        headers = request.headers.copy()
        del headers[hdrs.SEC_WEBSOCKET_EXTENSIONS]
        request = request.clone(headers=headers)
    return await handler(request)


def _patch_file_store() -> None:
    import secrets

    from pydantic import ValidationError

    from sio_server.interview.model import Session
    from sio_server.store import files
    from sio_server.store.base import StoreError, VersionConflict

    def save_sync(path: Any, data: bytes, version: int, session_id: str) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            stored = 0
        except OSError as exc:
            raise StoreError(f"cannot read {path.name}: {exc}") from exc
        else:
            try:
                stored = Session.model_validate_json(raw).version
            except ValidationError as exc:
                raise StoreError(f"corrupt session file {path.name}") from exc
        if stored != version - 1:
            raise VersionConflict(f"session {session_id}: stored version {stored}, write based on {version - 1}")
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}{files._TMP_SUFFIX}")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            files._fsync_dir(path.parent)
        except OSError as exc:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise StoreError(f"cannot write {path.name}: {exc}") from exc

    async def save(self: Any, session: Any) -> None:
        path = self.path_for(session.id)
        if path is None:
            raise StoreError("invalid session id")
        data = session.model_dump_json().encode()
        async with self._lock(session.id):
            await asyncio.to_thread(save_sync, path, data, session.version, session.id)

    files.FileSessionStore.save = save  # type: ignore[method-assign]


def _trimmer() -> Any:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return libc.malloc_trim


def patched_create_app(settings: Any, **kwargs: Any) -> web.Application:
    if "store_onehop" in PATCHES:
        _patch_file_store()
    app = _original(settings, **kwargs)
    if "ws_nodeflate" in PATCHES:
        app.middlewares.insert(0, no_ws_deflate)
    if "malloc_trim" in PATCHES:
        service = app[app_module.SERVICE]
        sweep = service.sweep
        trim = _trimmer()

        async def sweep_and_trim(*args: Any, **kw: Any) -> dict[str, int]:
            result = await sweep(*args, **kw)
            gc.collect()
            trim(0)
            return result

        service.sweep = sweep_and_trim
    if "debug" in PATCHES:
        app.router.add_get("/bench/debug", _debug)
    return app


async def _debug(request: web.Request) -> web.Response:
    """Diagnostics (not a proposed change): live objects by type and the sizes of the server's tables."""
    import collections
    import sys

    gc.collect()
    if request.query.get("trim"):
        _trimmer()(0)
    if request.query.get("stats"):
        sys._debugmallocstats()
    app = request.app
    sio = app[app_module.SIO]
    service = app[app_module.SERVICE]
    ns = sio.namespace_handlers.get("/interview")
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    rooms = sio.manager.rooms.get("/interview", {})
    return web.json_response(
        {
            "eio_sockets": len(sio.eio.sockets),
            "sio_rooms": len(rooms),
            "bound": len(getattr(ns, "bound", {})),
            "limits": len(getattr(ns, "limits", {})),
            "live": len(service.live),
            "store_locks": len(getattr(service.store, "_locks", {})),
            "tasks": len(__import__("asyncio").all_tasks()),
            "blocks": sys.getallocatedblocks(),
            "top": counts.most_common(25),
        }
    )


_original = app_module.create_app


def main() -> None:
    unknown = PATCHES - KNOWN
    if unknown:
        raise SystemExit(f"unknown BENCH_PATCHES: {sorted(unknown)}")
    app_module.create_app = patched_create_app  # before __main__ imports the name
    from sio_server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
