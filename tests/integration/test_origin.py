"""Same-origin by default once a vendor key is set: a foreign page cannot open a socket on either transport."""

from __future__ import annotations

import aiohttp
import pytest
import socketio

from sio_server.app import create_app
from sio_server.vendors.plugins import key_env_names, offline
from sio_server.web.cors import OriginPolicy, replit_origins

NS = "/interview"
EVIL = "https://evil.example"


@pytest.fixture
def keyed(settings, refused_url):
    """Settings with a (fake) paid vendor key and CORS_ALLOWED_ORIGINS unset."""
    return settings.model_copy(update={"openai_api_key": "sk-test", "openai_base_url": refused_url})


async def polling_handshake(server, origin: str | None) -> int:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{server.make_url('/socket.io/')}?EIO=4&transport=polling", headers=headers)
        return r.status


async def websocket_connects(server, origin: str | None) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    headers = {"Origin": origin} if origin else {}
    try:
        await client.connect(str(server.make_url("/")), namespaces=[NS], transports=["websocket"], headers=headers, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True


async def test_foreign_origin_is_refused_by_default_with_a_vendor_key(aiohttp_server, keyed):
    assert keyed.cors_allowed_origins is None and not offline(keyed) and keyed.cors_origins(offline(keyed)) is None
    server = await aiohttp_server(create_app(keyed))
    own = f"http://{server.host}:{server.port}"
    assert not await websocket_connects(server, EVIL)
    assert await polling_handshake(server, EVIL) == 400
    assert await websocket_connects(server, own)
    assert await polling_handshake(server, own) == 200
    assert await websocket_connects(server, None), "non-browser clients send no Origin"
    async with aiohttp.ClientSession() as http:
        r = await http.options(
            str(server.make_url("/api/v1/sessions")), headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"}
        )
        assert r.status == 403


async def test_replit_public_domains_are_same_origin(aiohttp_server, keyed, monkeypatch):
    monkeypatch.setenv("REPLIT_DOMAINS", "interview.example.repl.co,other.example.repl.co")
    monkeypatch.setenv("REPLIT_DEV_DOMAIN", "abc.example.replit.dev")
    server = await aiohttp_server(create_app(keyed))
    for origin in ("https://interview.example.repl.co", "https://other.example.repl.co", "https://abc.example.replit.dev"):
        assert await websocket_connects(server, origin), origin
        assert await polling_handshake(server, origin) == 200
    assert not await websocket_connects(server, "http://abc.example.replit.dev"), "the scheme is part of the origin"
    assert not await websocket_connects(server, EVIL)


async def test_offline_server_accepts_any_origin(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))
    assert await websocket_connects(server, EVIL)


def test_policy_decisions():
    same = OriginPolicy(None, extra=["https://pub.example"])
    assert same.allows(None, ["h:1"]) and same.allows("http://h:1", ["h:1"]) and same.allows("https://pub.example/", [])
    assert not same.allows("https://h:1.evil", ["h:1"]) and not same.allows("null", ["h:1"]) and not same.allows("x", [""])
    fixed = OriginPolicy(["https://ok.test"])
    assert fixed.allows("https://ok.test", []) and not fixed.allows("http://h", ["h"])
    assert OriginPolicy("*").allows(EVIL, [])
    assert replit_origins({"REPLIT_DOMAINS": " a.dev , b.dev", "REPLIT_DEV_DOMAIN": "a.dev"}) == ["https://a.dev", "https://b.dev"]


@pytest.mark.parametrize("key", key_env_names())
def test_any_registered_vendors_key_closes_cors_by_default(settings, key):
    """The key list is the registry's: a vendor that registers a key closes CORS when it is set, with no list to edit."""
    assert offline(settings) and settings.cors_origins(offline(settings)) == "*"
    keyed = settings.model_copy(update={key.lower(): "k"})
    assert not offline(keyed) and keyed.cors_origins(offline(keyed)) is None

