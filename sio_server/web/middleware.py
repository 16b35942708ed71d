"""The application's one aiohttp middleware: JSON errors everywhere, CORS on the HTTP routes, no deflate on websockets.

One middleware, not one per job, and none of its frames on a websocket: a
middleware's coroutine frame stays suspended for the whole life of every
websocket (the engine.io handler returns only when the socket closes), so
each frame would cost every held session memory. The jobs themselves live with their concern:
:func:`.admin.error_response` (the JSON error body), :func:`.cors.apply_cors`
(the origin policy for HTTP routes; python-engineio applies the same policy
to the Socket.IO path) and :func:`without_deflate_offer` below.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from .admin import ApiError, error_response
from .cors import OriginPolicy, apply_cors

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]
SOCKET_IO_PATH = "/socket.io"


def without_deflate_offer(request: web.Request) -> web.Request:
    """The request with a client's permessage-deflate offer hidden from the websocket handshake.

    engineio's aiohttp driver makes its ``WebSocketResponse`` with aiohttp's
    default ``compress=True``, which keeps about 100 KiB of zlib state per
    socket; the audio this server carries does not compress. ``WS_COMPRESSION``
    turns it back on.
    """
    if hdrs.SEC_WEBSOCKET_EXTENSIONS not in request.headers:
        return request
    headers = request.headers.copy()
    del headers[hdrs.SEC_WEBSOCKET_EXTENSIONS]
    return request.clone(headers=headers)


def is_websocket_upgrade(request: web.Request) -> bool:
    """A websocket handshake on the Socket.IO path: the request that lives as long as its socket."""
    return request.path.startswith(SOCKET_IO_PATH) and request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def app_middleware(policy: OriginPolicy, ws_compression: bool) -> Middleware:
    """The middleware of :func:`sio_server.app.create_app`.

    A plain function returning an awaitable (aiohttp awaits whatever a
    middleware returns): for a websocket handshake it hands back the
    engine.io handler's own coroutine, so a held socket keeps no frame of
    this middleware; an error there is aiohttp's plain 500, logged with its
    traceback by aiohttp. Every other request runs through :func:`_http`.
    """

    @web.middleware
    def middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        if is_websocket_upgrade(request):
            return handler(request if ws_compression else without_deflate_offer(request))
        return _http(policy, ws_compression, request, handler)

    return middleware


async def _http(
    policy: OriginPolicy, ws_compression: bool, request: web.Request, handler: Handler
) -> web.StreamResponse:
    """JSON errors for every HTTP request; CORS for the HTTP routes (python-engineio applies it on Socket.IO's)."""
    try:
        if request.path.startswith(SOCKET_IO_PATH):
            return await handler(request if ws_compression else without_deflate_offer(request))
        return await apply_cors(policy, request, handler)
    except Exception as exc:
        if not isinstance(exc, (web.HTTPException, ApiError)):
            log.exception("%s %s failed", request.method, request.path)
        response = error_response(exc)
        if response is None:
            raise
        return response
