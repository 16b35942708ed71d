"""CORS for the HTTP routes, with the same origins as the Socket.IO server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cors_middleware(origins: str | list[str] | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware allowing ``origins`` (``"*"``, a list, or None for same-origin only).

    The Socket.IO path is left to python-engineio, which applies the same origins.
    """

    def allowed(origin: str) -> bool:
        return origins == "*" or (isinstance(origins, list) and origin.rstrip("/") in origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.path.startswith("/socket.io") or origin is None:
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not allowed(origin):
                return web.json_response({"error": {"code": "cors_rejected", "message": "origin not allowed"}}, status=403)
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return middleware
