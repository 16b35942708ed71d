"""The file store's tombstones, and their expiry journal so that old ones go at the cost of what goes.

``DATA_DIR/tombstones/<uuid>.json`` holds one :class:`~.base.Tombstone`. Each
tombstone's id is also appended (and fsynced) to a bucket of
``DATA_DIR/tombstone-expiry/``: ``<end>.ids``, where ``end`` (epoch seconds) is
the latest purge time the bucket holds; buckets are ``width`` seconds wide (a
hundredth of the retention, between 1 s and a day). Expiring lists that small
folder, and for each bucket whose end is past reads its ids, deletes their
tombstones and then the bucket: younger tombstones are never read. A
tombstone goes at most ``width`` after its retention ran out.

Tombstones written before the journal existed are adopted once at start-up
(listed in buckets by their file's modification time, the time they were
written).
"""

from __future__ import annotations

import collections
import logging
import math
import os
import shutil
from datetime import datetime
from pathlib import Path

from ..domain.ids import parse_session_id
from .base import Tombstone
from .file_io import fsync_dir, read_model

log = logging.getLogger(__name__)
BUCKET_SUFFIX = ".ids"


def bucket_width(retention: float) -> int:
    """Seconds one expiry bucket spans for ``retention``: a hundredth of it, at least 1 s, at most a day."""
    return int(min(86_400, max(1, retention // 100)))


class TombstoneFiles:
    """The tombstones folder, its expiry journal and the number of tombstones kept."""

    def __init__(self, data_dir: Path, retention: float) -> None:
        self.root = data_dir / "tombstones"
        self.expiry = data_dir / "tombstone-expiry"
        self.width = bucket_width(retention)
        self.count = 0

    def path_for(self, session_id: str) -> Path | None:
        """The tombstone file of ``session_id``, or None for an id that is not a canonical UUID4."""
        uid = parse_session_id(session_id)
        return None if uid is None else self.root / f"{uid}.json"

    def _bucket(self, timestamp: float) -> Path:
        end = (math.floor(timestamp / self.width) + 1) * self.width
        return self.expiry / f"{end}{BUCKET_SUFFIX}"

    # -- start-up (in a thread) ------------------------------------------------------

    def open(self) -> None:
        """Count the tombstones; adopt into the journal those written before it existed."""
        try:
            names = [n for n in os.listdir(self.root) if n.endswith(".json")]
        except FileNotFoundError:
            names = []
        self.count = len(names)
        if not self.expiry.is_dir():
            self._adopt(names)

    def _adopt(self, names: list[str]) -> None:
        """Write the journal of ``names`` (tombstone files) into a new folder, then rename it into place."""
        staging = self.expiry.with_name(self.expiry.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        buckets: dict[str, list[str]] = collections.defaultdict(list)
        for name in names:
            session_id = name.removesuffix(".json")
            if parse_session_id(session_id) is None:
                continue
            try:
                written = (self.root / name).stat().st_mtime
            except FileNotFoundError:
                continue
            buckets[self._bucket(written).name].append(session_id)
        for bucket, ids in buckets.items():
            (staging / bucket).write_text("".join(f"{i}\n" for i in ids))
        fsync_dir(staging)
        os.replace(staging, self.expiry)
        fsync_dir(self.expiry.parent)
        if names:
            log.info("file store: %d tombstones from before the expiry journal adopted into it", len(names))

    # -- tombstones ------------------------------------------------------------------

    def journal(self, tombstone: Tombstone) -> None:
        """Append the tombstone's id to its expiry bucket, durably (in a thread, before the tombstone is written)."""
        self.expiry.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        bucket = self._bucket(tombstone.purged_at.timestamp())
        created = not bucket.exists()
        fd = os.open(bucket, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{tombstone.session_id}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.expiry)

    async def read(self, session_id: str) -> Tombstone | None:
        """The tombstone of ``session_id``, or None."""
        path = self.path_for(session_id)
        return None if path is None else await read_model(path, Tombstone, "tombstone")

    def expire(self, before: datetime, limit: int) -> int:
        """Delete the tombstones of every bucket that ended at or before ``before``, oldest bucket first, until
        ``limit`` are gone (a bucket is always finished); how many were deleted (in a thread)."""
        try:
            names = os.listdir(self.expiry)
        except FileNotFoundError:
            return 0
        ends = sorted(int(n[: -len(BUCKET_SUFFIX)]) for n in names if n.endswith(BUCKET_SUFFIX) and n[0].isdigit())
        bound, gone = before.timestamp(), 0
        for end in ends:
            if end > bound or gone >= limit:
                break
            bucket = self.expiry / f"{end}{BUCKET_SUFFIX}"
            for session_id in bucket.read_text().split():
                path = self.path_for(session_id)
                if path is None:
                    continue
                try:
                    path.unlink()
                    gone += 1
                except FileNotFoundError:
                    pass
            bucket.unlink()
        if gone:
            fsync_dir(self.root)
            fsync_dir(self.expiry)
        return gone
