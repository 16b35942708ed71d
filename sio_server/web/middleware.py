"""The application's one aiohttp middleware: JSON errors for every HTTP request, CORS on the HTTP routes.

One middleware, not one per job, and none of its frames on a websocket: a
middleware's coroutine frame stays suspended for the whole life of every
websocket (the engine.io handler returns only when the socket closes), so
each frame would cost every held session memory. The jobs live with their
concern: :func:`.admin.error_response` (the JSON error body) and
:func:`.cors.apply_cors` (the origin policy for HTTP routes; python-engineio
applies the same policy to the Socket.IO path). Refusing permessage-deflate
on websockets is the engine.io websocket's job (``transport/upstream/server.py``).
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


def is_websocket_upgrade(request: web.Request) -> bool:
    """A websocket handshake on the Socket.IO path: the request that lives as long as its socket."""
    return request.path.startswith(SOCKET_IO_PATH) and request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def app_middleware(policy: OriginPolicy) -> Middleware:
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
            return handler(request)
        return _http(policy, request, handler)

    return middleware


async def _http(policy: OriginPolicy, request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON errors for every HTTP request; CORS for the HTTP routes (python-engineio applies it on Socket.IO's)."""
    try:
        if request.path.startswith(SOCKET_IO_PATH):
            return await handler(request)
        return await apply_cors(policy, request, handler)
    except Exception as exc:
        if not isinstance(exc, (web.HTTPException, ApiError)):
            log.exception("%s %s failed", request.method, request.path)
        response = error_response(exc)
        if response is None:
            raise
        return response
