"""The file store: the shared contract, atomic writes and path safety."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sio_server.domain.ids import parse_session_id
from sio_server.store.base import Clock, StoreError
from sio_server.store.files import FileSessionStore
from tests.unit.store_contract import StoreContract, make_session


@pytest.fixture
async def store(tmp_path: Path) -> FileSessionStore:
    s = FileSessionStore(tmp_path / "data")
    await s.open()
    return s


class TestFileStoreContract(StoreContract):
    pass


class CrashBeforeRename(FileSessionStore):
    """Dies between the finished temp file and the rename."""

    async def _replace(self, tmp, path):
        raise OSError("simulated crash before rename")


async def test_crash_between_temp_write_and_rename_keeps_the_old_file(tmp_path: Path):
    good = FileSessionStore(tmp_path / "data")
    await good.open()
    session = make_session(questions=1)
    await good.save(session)
    path = good.path_for(session.id)
    old_bytes = path.read_bytes()

    crashing = CrashBeforeRename(tmp_path / "data")
    newer = session.model_copy(deep=True)
    newer.version = 2
    newer.end_reason = "changed"
    with pytest.raises(StoreError):
        await crashing.save(newer)
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert (await good.load(session.id)).end_reason is None


async def test_temp_files_left_by_a_kill_are_removed_at_open(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    session = make_session()
    await store.save(session)
    leftover = store.root / f".{session.id}.dead.tmp"
    leftover.write_bytes(b'{"half": ')
    reopened = FileSessionStore(tmp_path / "data")
    await reopened.open()
    assert not leftover.exists()
    assert (await reopened.load(session.id)).version == 1


async def test_file_is_written_under_data_dir_as_uuid_json(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    session = make_session()
    await store.save(session)
    assert (tmp_path / "data" / "sessions" / f"{session.id}.json").is_file()


async def test_corrupt_file_is_a_store_error_not_a_crash(tmp_path: Path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    session = make_session()
    await store.save(session)
    store.path_for(session.id).write_bytes(b"\xff\xfe not json")
    with pytest.raises(StoreError):
        await store.load(session.id)
    assert await store.list_summaries() == []


@hsettings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper())))
def test_no_id_yields_a_path_outside_the_sessions_folder(value: str):
    root = Path("/srv/data").resolve()
    store = FileSessionStore(root)
    path = store.path_for(value)
    if path is None:
        assert parse_session_id(value) is None
        return
    assert path.parent == root / "sessions"
    assert path.name == f"{value}.json"
    assert os.path.commonpath([path.resolve(), root]) == str(root)


async def test_a_reopened_store_rebuilds_its_index_and_keeps_its_tombstones_expiring(tmp_path: Path):
    store = FileSessionStore(tmp_path)
    await store.open()
    kept, purged = make_session(client_key="k" * 32), make_session()
    for session in (kept, purged):
        await store.save(session)
    await store.purge(purged.id, purged.created_at)
    again = FileSessionStore(tmp_path)
    await again.open()
    assert await again.count() == 1 and await again.count_active("k" * 32) == 1
    assert await again.due(Clock.ABANDONED, kept.updated_at, 10) == [kept.id]
    assert await again.count_tombstones() == 1
    assert await again.expire_tombstones(purged.created_at + timedelta(days=2), 10) == 1
    assert await again.tombstone(purged.id) is None


async def test_tombstones_from_before_the_expiry_journal_are_adopted_by_their_age(tmp_path: Path):
    store = FileSessionStore(tmp_path)
    await store.open()
    sessions = [make_session() for _ in range(2)]
    for session in sessions:
        await store.save(session)
        await store.purge(session.id, session.created_at)
    shutil.rmtree(tmp_path / "tombstone-expiry")  # as a server of the previous release left DATA_DIR
    old = store.tombstone_path(sessions[0].id)
    written = old.stat().st_mtime - 10 * 86400
    os.utime(old, (written, written))
    again = FileSessionStore(tmp_path)
    await again.open()
    assert await again.count_tombstones() == 2
    assert await again.expire_tombstones(sessions[0].created_at - timedelta(days=5), 10) == 1
    assert await again.tombstone(sessions[0].id) is None and await again.tombstone(sessions[1].id) is not None
