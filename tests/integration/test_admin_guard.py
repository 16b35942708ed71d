"""Issue 19 row 12: a short ADMIN_TOKEN stops the start, wrong tokens are throttled per address, /metrics is private."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sio_server.app import create_app
from sio_server.devtools.process import ROOT
from sio_server.settings import Settings
from tests.support.server import ADMIN

MISSING = "d3b07384-d113-4ec6-a1bb-34c4a1f6e4c2"
SHORT = "short-but-guessable-31-chars-xx"


def test_a_short_admin_token_stops_the_server_at_start_up(tmp_path):
    assert len(SHORT) == 31
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "ADMIN_TOKEN": SHORT, "PORT": "0", "DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "sio_server"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "ADMIN_TOKEN must be at least 32 characters (it has 31)" in done.stderr
    assert SHORT not in done.stderr + done.stdout, "the message never repeats the token"
    assert "Traceback" not in done.stderr


def test_an_empty_admin_token_disables_the_admin_api():
    assert Settings(_env_file=None, admin_token="").admin_token is None
    assert Settings(_env_file=None, admin_token="x" * 32).admin_token == "x" * 32


async def test_wrong_tokens_get_429_after_the_minutes_share_per_address(aiohttp_client, settings):
    trusting = settings.model_copy(update={"admin_failures_per_minute": 3, "trusted_proxies": "127.0.0.1"})
    http = await aiohttp_client(create_app(trusting))
    guesser = {"X-Forwarded-For": "203.0.113.5"}
    wrong = {**guesser, "Authorization": "Bearer " + "g" * 40}
    assert [(await http.get("/api/v1/sessions", headers=wrong)).status for _ in range(3)] == [401] * 3
    # a wrong resume token on a session route counts against the same address
    r = await http.get(f"/api/v1/sessions/{MISSING}/feedback", headers=wrong)
    assert r.status == 429 and (await r.json())["error"]["code"] == "rate_limited"
    r = await http.get("/api/v1/sessions", headers={**guesser, **ADMIN})
    assert r.status == 429, "past the share nothing is compared, not even the right token"
    assert (await http.get("/metrics", headers={**guesser, **ADMIN})).status == 429
    # another client (another /64 or address) is not affected
    assert (await http.get("/api/v1/sessions", headers={"X-Forwarded-For": "203.0.113.6", **ADMIN})).status == 200
    assert (await http.get("/api/v1/sessions", headers={**wrong, "X-Forwarded-For": "2001:db8::1"})).status == 401


async def test_metrics_need_the_admin_token_unless_public(aiohttp_client, settings):
    http = await aiohttp_client(create_app(settings))
    r = await http.get("/metrics")
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    assert "interview_" not in await r.text()
    r = await http.get("/metrics", headers=ADMIN)
    assert r.status == 200 and "interview_sockets_connected" in await r.text()

    public = await aiohttp_client(create_app(settings.model_copy(update={"metrics_public": True})))
    r = await public.get("/metrics")
    assert r.status == 200 and "interview_sockets_connected" in await r.text()

    no_admin = await aiohttp_client(create_app(settings.model_copy(update={"admin_token": None})))
    r = await no_admin.get("/metrics")
    assert r.status == 403 and (await r.json())["error"]["code"] == "admin_disabled"


@pytest.mark.parametrize("header", ["Bearer wrong", ""])
async def test_a_missing_or_wrong_token_counts_once(aiohttp_client, settings, header):
    http = await aiohttp_client(create_app(settings.model_copy(update={"admin_failures_per_minute": 1})))
    headers = {"Authorization": header} if header else {}
    assert (await http.get(f"/api/v1/sessions/{MISSING}/report", headers=headers)).status == 401
    assert (await http.get(f"/api/v1/sessions/{MISSING}/report", headers=headers)).status == 429
