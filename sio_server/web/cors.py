"""Which origins may use the server, for Socket.IO and the HTTP routes alike.

One :class:`OriginPolicy` decides; python-engineio calls it for every
Socket.IO handshake and polling request (both transports), and the HTTP
application's middleware calls :func:`apply_cors` for the other routes. A request without an
``Origin`` header is not from a browser page and is never refused here.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REPLIT_DOMAIN_VARIABLES = ("REPLIT_DOMAINS", "REPLIT_DEV_DOMAIN")


def replit_origins(env: Mapping[str, str] | None = None) -> list[str]:
    """The deployment's public origins from Replit's environment (``https://<domain>`` for each)."""
    env = os.environ if env is None else env
    origins: list[str] = []
    for name in REPLIT_DOMAIN_VARIABLES:
        for domain in env.get(name, "").split(","):
            domain = domain.strip().rstrip("/")
            if domain and f"https://{domain}" not in origins:
                origins.append(f"https://{domain}")
    return origins


class OriginPolicy:
    """Any origin (``"*"``), a fixed list, or same-origin (``None``: the request's own host, plus ``extra``).

    Same-origin compares the ``Origin`` header's host with the request's
    ``Host`` (or ``X-Forwarded-Host`` from a proxy that rewrites it): a page
    on another site cannot make a browser send a ``Host`` it does not serve.
    """

    def __init__(self, origins: str | list[str] | None, extra: list[str] | None = None) -> None:
        self.any = origins == "*"
        self.fixed = [o.rstrip("/") for o in origins] if isinstance(origins, list) else None
        self.extra = [o.rstrip("/") for o in extra or []]

    def allows(self, origin: str | None, hosts: list[str]) -> bool:
        """True when a page from ``origin`` may use a server reached at one of ``hosts``."""
        if not origin or self.any:
            return True
        origin = origin.rstrip("/")
        if self.fixed is not None:
            return origin in self.fixed
        if origin in self.extra:
            return True
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and any(netloc == h.strip().lower() for h in hosts if h)

    def for_engineio(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        """The callable python-engineio takes as ``cors_allowed_origins`` (WSGI-style ``environ``)."""
        hosts = [environ.get("HTTP_HOST", ""), *environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[:1]]
        return self.allows(origin, hosts)

    def for_request(self, request: web.Request) -> bool:
        """The decision for an aiohttp request."""
        hosts = [request.headers.get("Host", ""), *request.headers.get("X-Forwarded-Host", "").split(",")[:1]]
        return self.allows(request.headers.get("Origin"), hosts)


async def apply_cors(policy: OriginPolicy, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a preflight, or call ``handler`` and allow its response to ``policy``'s origins (HTTP routes only).

    The Socket.IO path is left to python-engineio, which calls the same policy.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    allowed = policy.for_request(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed:
            return web.json_response({"error": {"code": "cors_rejected", "message": "origin not allowed"}}, status=403)
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Requested-With"
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response
