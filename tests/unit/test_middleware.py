"""The app middleware keeps no frame of its own on a websocket, and hides the deflate offer from it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from sio_server.web.cors import OriginPolicy
from sio_server.web.middleware import app_middleware

UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Extensions": "permessage-deflate"}


async def test_a_websocket_handshake_gets_the_handlers_own_coroutine_without_the_deflate_offer():
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request)
        return web.Response(status=101)

    middleware = app_middleware(OriginPolicy([]), ws_compression=False)
    request = make_mocked_request("GET", "/socket.io/?EIO=4&transport=websocket", headers=UPGRADE)
    awaitable = middleware(request, handler)
    assert awaitable.cr_code is handler.__code__, "the handler's coroutine itself: no middleware frame per socket"
    assert (await awaitable).status == 101
    assert "Sec-WebSocket-Extensions" not in seen[0].headers


async def test_http_errors_become_json_and_compression_keeps_the_offer_when_enabled():
    async def missing(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound()

    middleware = app_middleware(OriginPolicy([]), ws_compression=True)
    response = await middleware(make_mocked_request("GET", "/nope"), missing)
    assert response.status == 404 and response.content_type == "application/json"

    async def echo(request: web.Request) -> web.StreamResponse:
        return web.Response(text=request.headers.get("Sec-WebSocket-Extensions", ""))

    kept = await middleware(make_mocked_request("GET", "/socket.io/", headers=UPGRADE), echo)
    assert kept.text == "permessage-deflate"
