"""The app middleware keeps no frame of its own on a websocket and answers HTTP errors in JSON."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from sio_server.web.cors import OriginPolicy
from sio_server.web.middleware import app_middleware

UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade"}


async def test_a_websocket_handshake_gets_the_handlers_own_coroutine():
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=101)

    middleware = app_middleware(OriginPolicy([]))
    awaitable = middleware(make_mocked_request("GET", "/socket.io/?EIO=4&transport=websocket", headers=UPGRADE), handler)
    assert awaitable.cr_code is handler.__code__, "the handler's coroutine itself: no middleware frame per socket"
    assert (await awaitable).status == 101


async def test_http_errors_become_json():
    async def missing(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound()

    async def broken(request: web.Request) -> web.StreamResponse:
        raise RuntimeError("bug")

    middleware = app_middleware(OriginPolicy([]))
    response = await middleware(make_mocked_request("GET", "/nope"), missing)
    assert response.status == 404 and response.content_type == "application/json"
    response = await middleware(make_mocked_request("GET", "/socket.io/?EIO=4&transport=polling"), broken)
    assert response.status == 500 and b"internal_error" in response.body
