"""``python -m bench.serve``: ``python -m sio_server`` as it is, plus the run-time patches named in ``BENCH_PATCHES``.

"As is" in the benchmarks is the current ``sio_server``. Settings that the
server has (``WS_COMPRESSION``, ``TTS_PIPELINING``) are varied through the
environment, not here. This launcher applies ideas the server has *not*
adopted, or takes back ones it has, so they can be measured against it
without editing ``sio_server``:

``store_onehop``
    ``FileSessionStore.save`` with the adopted version cache, but the temp
    write, fsync, rename and folder fsync run as one synchronous function
    under a single ``asyncio.to_thread`` call instead of the adopted aiofiles
    calls (about six executor round trips). Kept as a comparison row: the
    product keeps aiofiles.
``socketio_full_imports``
    socketio imported the plain way, with ``requests`` and ``redis`` (what the
    server did before ``sio_server.transport.optional_imports``).
``socketio_room_scan``
    python-socketio's own ``basic_disconnect`` (a scan of every room of the
    namespace on each disconnect) instead of the adopted room index
    (``sio_server/transport/rooms.py``): the disconnect storm's comparison row.
``tracemalloc``
    ``/bench/tracemalloc`` (``bench/tracing.py``), diagnostics only.
``asyncio_loop``
    asyncio's own event loop although uvloop is installed (the server uses uvloop
    whenever it can import it): uvloop is hidden from the import system.
``orjson``
    orjson as the JSON module of python-socketio's and python-engineio's packets,
    the server's ``SafeJSON`` included (not adopted: no measurable gain).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from aiohttp import web

PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p.strip()}
KNOWN = {"store_onehop", "socketio_full_imports", "asyncio_loop", "orjson", "tracemalloc", "socketio_room_scan"}


class OrjsonCodec:
    """The two functions python-socketio and python-engineio call on their ``json`` module, done by orjson.

    ``loads`` keeps the server's ``SafeJSON`` contract: undecodable input (orjson's
    ``JSONDecodeError`` is a ``ValueError``, nesting too deep included) becomes the
    invalid-event marker instead of raising.
    """

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return _orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        try:
            return _orjson.loads(data)
        except ValueError:
            return [_INVALID_EVENT]


_orjson: Any = None
_INVALID_EVENT = "\x00invalid"


def _patch_json() -> None:
    """orjson for every Socket.IO and Engine.IO packet: the server's ``SafeJSON`` (which its packet class uses) too."""
    from engineio import packet as eio_packet
    from socketio import packet as sio_packet

    from sio_server.transport import packets

    global _orjson, _INVALID_EVENT
    import orjson

    _orjson, _INVALID_EVENT = orjson, packets.INVALID_EVENT
    sio_packet.Packet.json = OrjsonCodec
    eio_packet.Packet.json = OrjsonCodec
    packets.SafePacket.json = OrjsonCodec


def _patch_room_scan() -> None:
    """``socketio_room_scan``: a disconnect finds the socket's rooms by upstream's scan of every room."""
    from socketio.base_manager import BaseManager

    from sio_server.transport.upstream.rooms import RoomIndex

    RoomIndex.basic_disconnect = BaseManager.basic_disconnect  # type: ignore[method-assign]


def _patch_file_store() -> None:
    """``store_onehop`` on top of the adopted store: version cache kept, the writing in one worker-thread hop."""
    import secrets

    from sio_server.store import files
    from sio_server.store.base import StoreError, VersionConflict
    from sio_server.store.file_index import Entry
    from sio_server.store.file_io import fsync_dir

    def write_sync(path: Any, data: bytes) -> None:
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}{files._TMP_SUFFIX}")
        try:
            with open(tmp, "wb", buffering=0) as f:
                view = memoryview(data)
                while view:
                    view = view[f.write(view):]
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
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
            stored = self._versions.get(session.id)
            if stored is None:
                current = await self._read(path)
                stored = current.version if current else 0
            if stored != session.version - 1:
                raise VersionConflict(f"session {session.id}: stored version {stored}, write based on {session.version - 1}")
            await asyncio.to_thread(write_sync, path, data)
            self._versions[session.id] = session.version
            self.index.put(session.id, Entry.of(session))

    files.FileSessionStore.save = save  # type: ignore[method-assign]


def patched_create_app(settings: Any, **kwargs: Any) -> web.Application:
    if "store_onehop" in PATCHES:
        _patch_file_store()
    app = _original(settings, **kwargs)
    if "tracemalloc" in PATCHES:
        from . import tracing

        tracing.install(app)
    return app


_original: Any = None


def main() -> None:
    global _original
    unknown = PATCHES - KNOWN
    if unknown:
        raise SystemExit(f"unknown BENCH_PATCHES: {sorted(unknown)}")
    if "socketio_full_imports" not in PATCHES:  # as sio_server.__main__ does, before socketio is imported
        from sio_server.settings import Settings
        from sio_server.transport.optional_imports import import_socketio

        import_socketio(redis=bool(Settings().redis_url))
    if "tracemalloc" in PATCHES:
        from . import tracing

        tracing.start()
    if "orjson" in PATCHES:
        _patch_json()
    if "socketio_room_scan" in PATCHES:
        _patch_room_scan()
    if "asyncio_loop" in PATCHES:
        sys.modules["uvloop"] = None  # type: ignore[assignment]  # "import uvloop" now raises ImportError
    import sio_server.app as app_module

    _original = app_module.create_app
    app_module.create_app = patched_create_app  # before __main__ imports the name
    from sio_server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
