"""File store: one JSON file per session under ``DATA_DIR/sessions``.

Writes are atomic: a temp file in the same folder is written, flushed and
fsynced, then ``os.replace``d over the old file, then the folder is fsynced.
A crash at any point leaves either the old or the new file, never a torn one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import weakref
from datetime import datetime
from pathlib import Path

import aiofiles
import aiofiles.os

from ..domain.ids import parse_session_id
from ..domain.model import Session, SessionSummary, Status
from .base import Clock, SessionStore, StoreError, Tombstone, VersionConflict
from .file_index import Entry, SessionIndex
from .file_io import fsync_dir, read_model
from .file_tombstones import TombstoneFiles

log = logging.getLogger(__name__)
_fsync = aiofiles.os.wrap(os.fsync)
_statvfs = aiofiles.os.wrap(os.statvfs)
_TMP_SUFFIX = ".tmp"


class FileSessionStore(SessionStore):
    """Sessions as ``<uuid>.json`` files, one asyncio lock per session.

    Meant for one server process per ``DATA_DIR`` (it remembers the version it
    last read or wrote of each session, so a save does not re-read the file);
    several processes share sessions through the PostgreSQL store instead.
    """

    name = "files"

    def __init__(
        self, data_dir: str | os.PathLike[str], free_margin_bytes: int = 0, tombstone_retention: float = 31_536_000
    ) -> None:
        self.root = Path(data_dir).resolve() / "sessions"
        self.tombstones = TombstoneFiles(self.root.parent, tombstone_retention)
        self.free_margin_bytes = free_margin_bytes
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._versions: dict[str, int] = {}  # last version read or written here: saves skip re-reading the file
        self.index = SessionIndex()  # what the sweeper and the quota ask, without reading files

    temp_grace = 0.0  # seconds: a younger temp file is left at start-up (0: this process is the folder's only writer)

    async def open(self) -> None:
        """Create the sessions folder, remove temp files left by a crash, build the index, count the tombstones.

        Nothing here stops the process: a folder that cannot be created, a
        ``*.tmp`` that is a directory or cannot be removed (read-only
        ``DATA_DIR``) is logged and skipped, and ``/readyz`` says whether the
        store works.
        """
        try:
            await aiofiles.os.makedirs(self.root, exist_ok=True)
            names = await aiofiles.os.listdir(self.root)
        except OSError as exc:
            log.warning("file store: cannot prepare the sessions folder (%s); /readyz reports it", exc.strerror)
            return
        now = time.time()
        for name in names:
            if not name.endswith(_TMP_SUFFIX):
                continue
            try:
                if self.temp_grace and now - (await aiofiles.os.stat(self.root / name)).st_mtime < self.temp_grace:
                    continue  # another process of this DATA_DIR may be writing it right now
                await aiofiles.os.remove(self.root / name)
            except OSError as exc:
                log.warning("file store: left %s in place at start-up (%s)", name, exc.strerror)
        await asyncio.to_thread(self._build_index, names)
        try:
            await asyncio.to_thread(self.tombstones.open)
        except OSError as exc:
            log.warning("file store: cannot prepare the tombstone journal (%s); /readyz reports it", exc.strerror)

    def _build_index(self, names: list[str]) -> None:
        """Index every session file in ``names`` (run in a thread: one read each, at start-up only)."""
        self.index.clear()
        unreadable = 0
        for name in names:
            session_id = name.removesuffix(".json")
            path = self.path_for(session_id) if name.endswith(".json") else None
            if path is None:
                continue
            try:
                self.index.put(session_id, Entry.of_json(path.read_bytes()))
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError):
                unreadable += 1
        if unreadable:
            log.warning("file store: %d session files could not be indexed (unreadable or corrupt)", unreadable)

    def forget(self, session_id: str) -> None:
        """Drop the remembered version (the next save of a reloaded session re-learns it from ``load``)."""
        self._versions.pop(session_id, None)

    def path_for(self, session_id: str) -> Path | None:
        """The file of ``session_id``, or None when the id is not a canonical UUID4."""
        uid = parse_session_id(session_id)
        if uid is None:
            return None
        return self.root / f"{uid}.json"

    def _lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[session_id] = lock
        return lock

    async def _read(self, path: Path) -> Session | None:
        return await read_model(path, Session, "session file")

    async def load(self, session_id: str) -> Session | None:
        """Return the stored session, or None."""
        path = self.path_for(session_id)
        if path is None:
            return None
        async with self._lock(session_id):
            session = await self._read(path)
            if session is not None:
                self._versions[session_id] = session.version
            else:
                self._versions.pop(session_id, None)
            return session

    async def reload(self, seen: Session) -> Session | None:
        """``seen`` when it is the version this process last read or wrote (the only writer of its
        ``DATA_DIR``: every save and load goes through here), otherwise a fresh load."""
        if self._versions.get(seen.id) == seen.version:
            return seen
        return await self.load(seen.id)

    async def save(self, session: Session) -> None:
        """Write ``session`` atomically after checking its version."""
        path = self.path_for(session.id)
        if path is None:  # pragma: no cover - ids are made by us
            raise StoreError("invalid session id")
        data = session.model_dump_json().encode()
        async with self._lock(session.id):
            stored_version = self._versions.get(session.id)
            if stored_version is None:
                current = await self._read(path)
                stored_version = current.version if current else 0
            if stored_version != session.version - 1:
                raise VersionConflict(
                    f"session {session.id}: stored version {stored_version}, write based on {session.version - 1}"
                )
            await self._write_atomic(path, data)
            self._versions[session.id] = session.version
            self.index.put(session.id, Entry.of(session))

    async def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}{_TMP_SUFFIX}")
        try:
            # Unbuffered: the bytes go straight to the file, so no flush round trip before the fsync.
            async with aiofiles.open(tmp, "wb", buffering=0) as f:
                view = memoryview(data)
                while view:  # a raw write may be partial
                    view = view[await f.write(view) :]
                await _fsync(f.fileno())
            await self._replace(tmp, path)
            await asyncio.to_thread(fsync_dir, path.parent)
        except OSError as exc:
            try:
                await aiofiles.os.remove(tmp)
            except OSError:
                pass
            raise StoreError(f"cannot write {path.name}: {exc}") from exc

    async def _replace(self, tmp: Path, path: Path) -> None:
        """Move the finished temp file over the session file."""
        await aiofiles.os.replace(tmp, path)

    async def delete(self, session_id: str) -> bool:
        """Remove the session's file."""
        path = self.path_for(session_id)
        if path is None:
            return False
        async with self._lock(session_id):
            self._versions.pop(session_id, None)
            try:
                await aiofiles.os.remove(path)
            except FileNotFoundError:
                self.index.drop(session_id)
                return False
            except OSError as exc:
                raise StoreError(f"cannot delete {path.name}: {exc}") from exc
            self.index.drop(session_id)
            await asyncio.to_thread(fsync_dir, path.parent)
            return True

    def tombstone_path(self, session_id: str) -> Path | None:
        """The tombstone file of ``session_id`` (``DATA_DIR/tombstones/<uuid>.json``), or None for a bad id."""
        return self.tombstones.path_for(session_id)

    async def purge(self, session_id: str, purged_at: datetime) -> bool:
        """Journal the tombstone for its expiry, write it (atomically), then remove the session's file.

        A crash in between leaves both: the session is still readable and the
        next sweep purges it again.
        """
        path, tomb_path = self.path_for(session_id), self.tombstone_path(session_id)
        if path is None or tomb_path is None:
            return False
        async with self._lock(session_id):
            session = await self._read(path)
            if session is None:
                return False
            tombstone = Tombstone(session_id=session.id, token_hash=session.token_hash, purged_at=purged_at)
            try:
                await asyncio.to_thread(self.tombstones.journal, tombstone)
            except OSError as exc:
                raise StoreError(f"cannot journal a tombstone: {exc}") from exc
            await self._write_atomic(tomb_path, tombstone.model_dump_json().encode())
            self.tombstones.count += 1
        return await self.delete(session_id)

    async def tombstone(self, session_id: str) -> Tombstone | None:
        """The tombstone of a purged session, or None."""
        return await self.tombstones.read(session_id)

    async def expire_tombstones(self, before: datetime, limit: int) -> int:
        """Delete the tombstones whose expiry bucket ended by ``before`` (the journal names them; others are not read)."""
        try:
            gone = await asyncio.to_thread(self.tombstones.expire, before, limit)
        except OSError as exc:
            raise StoreError(f"cannot expire tombstones: {exc}") from exc
        self.tombstones.count -= gone
        return gone

    async def count_tombstones(self) -> int:
        """How many tombstones are kept (counted at start-up, then kept up to date)."""
        return self.tombstones.count

    async def _session_ids(self) -> list[str]:
        """The ids of every session file (other names in the folder are left out)."""
        try:
            names = await aiofiles.os.listdir(self.root)
        except OSError as exc:
            raise StoreError(f"cannot list sessions: {exc}") from exc
        ids = (name[: -len(".json")] for name in names if name.endswith(".json"))
        return [session_id for session_id in ids if parse_session_id(session_id) is not None]

    async def count(self) -> int:
        """How many sessions are indexed (no file is read, no folder listed)."""
        return len(self.index)

    async def due(self, clock: Clock, before: datetime, limit: int) -> list[str]:
        """Ids due on ``clock``, from the index (no file is read)."""
        return self.index.due(clock, before, limit)

    async def count_active(self, client_key: str) -> int:
        """Active sessions of ``client_key``, from the index."""
        return self.index.count_active(client_key)

    async def list_summaries(self, status: Status | None = None, limit: int | None = None) -> list[SessionSummary]:
        """Summaries of every stored session, newest first."""
        summaries = []
        for path in map(self.path_for, await self._session_ids()):
            try:
                session = await self._read(path)  # not remembered: listing is not loading
            except StoreError:
                continue
            if session is not None and (status is None or session.status is status):
                summaries.append(SessionSummary.of(session))
        summaries.sort(key=lambda s: s.updated_at, reverse=True)
        return summaries[:limit] if limit is not None else summaries

    async def ping(self) -> None:
        """Check that a real save would succeed: the folder accepts a write and keeps the free-space margin."""
        probe = self.root / f".ping.{secrets.token_hex(4)}{_TMP_SUFFIX}"
        try:
            async with aiofiles.open(probe, "wb") as f:
                await f.write(b"ok")
                await f.flush()
            stats = await _statvfs(self.root)
        except OSError as exc:
            raise StoreError(f"file store not writable: {exc.strerror}") from exc
        finally:
            try:
                await aiofiles.os.remove(probe)
            except OSError:
                pass
        free = stats.f_bavail * stats.f_frsize
        if free < self.free_margin_bytes:
            raise StoreError(f"file store nearly full: {free} bytes free, {self.free_margin_bytes} required")
