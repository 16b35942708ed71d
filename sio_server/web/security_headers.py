"""Security headers on every response, and no software versions in them.

The page loads only its own scripts and styles (no inline script), so the
Content-Security-Policy allows nothing else; it may not be framed, sniffed as
another type, or leak its URL to other sites. aiohttp's default ``Server``
header (``Python/3.x aiohttp/3.x``) is replaced by a name without versions.
"""

from __future__ import annotations

from aiohttp import web

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    # The one inline style attribute of index.html (``style="--score: 0"`` on the score ring), by hash;
    # drop it once that attribute moves to style.css.
    "style-src 'self' 'unsafe-hashes' 'sha256-78ni/nalUcFk4ah22j0zngfAd+QSrqM/N/E31nb4TVE='",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(CSP_DIRECTIVES)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SERVER_NAME = "interview"


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME
    if response.status == 101:  # a websocket upgrade: no document, and its headers live as long as the socket
        return
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def install(app: web.Application) -> None:
    """Add the headers to every response of ``app`` (pages, API, Socket.IO, errors)."""
    app.on_response_prepare.append(_add_headers)
