"""Issue 13 rows 8, 9 and 10 (readiness): /readyz tells a real save would fail, start-up survives odd DATA_DIRs,
and nothing public names a path."""

from __future__ import annotations

import os
import subprocess

import pytest

from sio_server.app import create_app
from tests.integration.test_store_failures import fill, ready, small_disk  # noqa: F401 (fixture)
from tests.support.services import need

pytestmark = pytest.mark.integration


def test_readyz_is_503_when_free_space_is_below_the_margin(server_factory, small_disk):  # noqa: F811
    server = server_factory(data_dir=small_disk, env={"STORE_FREE_MARGIN_BYTES": str(256 << 10)}).start()
    assert ready(server.url)[0] == 200
    filler = fill(small_disk)
    os.truncate(filler, os.path.getsize(filler) - (64 << 10))  # 64 KiB free: a 2-byte probe fits, a session may not
    status, body = ready(server.url)
    assert status == 503 and body["checks"]["store"] == "error: store_unavailable"
    assert str(small_disk) not in str(body) and "Errno" not in str(body)
    filler.unlink()
    assert ready(server.url)[0] == 200


async def test_readyz_uses_the_margin_setting(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.model_copy(update={"store_free_margin_bytes": 1 << 62})))
    r = await client.get("/readyz")
    assert r.status == 503 and (await r.json())["checks"]["store"] == "error: store_unavailable"
    client = await aiohttp_client(create_app(settings.model_copy(update={"store_free_margin_bytes": 0})))
    assert (await client.get("/readyz")).status == 200


def test_start_up_skips_a_directory_named_like_a_temp_file(server_factory, tmp_path):
    sessions = tmp_path / "odd" / "sessions"
    (sessions / "x.tmp").mkdir(parents=True)
    (sessions / ".crashed.1234.tmp").write_bytes(b"half a file")
    server = server_factory(data_dir=tmp_path / "odd").start()
    assert (sessions / "x.tmp").is_dir() and not (sessions / ".crashed.1234.tmp").exists()
    assert "x.tmp" in server.log() and ready(server.url)[0] == 200


def test_start_up_survives_a_read_only_data_dir(server_factory, tmp_path):
    disk = tmp_path / "ro"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, check=False).returncode == 0
    need("a tmpfs mount (root)", mounted)
    try:
        (disk / "sessions").mkdir()
        (disk / "sessions" / ".stale.0000.tmp").write_bytes(b"x")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        server = server_factory(data_dir=disk).start()
        status, body = ready(server.url)
        assert status == 503 and body["checks"]["store"] == "error: store_unavailable"
        assert str(disk) not in str(body)
        assert "left .stale.0000.tmp in place" in server.log()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
