"""The browser page, its static files and the socket.io-client bundle, served from this server."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
CLIENT_ADAPTER_DIR = PACKAGE_DIR.parent / "client_adapter"
BUNDLE_CANDIDATES = (
    STATIC_DIR / "vendor" / "socket.io.min.js",
    PACKAGE_DIR.parent / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
)
routes = web.RouteTableDef()


def socketio_bundle() -> Path | None:
    """The official socket.io-client browser bundle installed by ``npm ci`` (never a CDN)."""
    return next((p for p in BUNDLE_CANDIDATES if p.is_file()), None)


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    """The interview page."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise web.HTTPNotFound(reason="the interview page is not installed")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


@routes.get("/vendor/socket.io.min.js")
async def bundle(request: web.Request) -> web.StreamResponse:
    """socket.io-client's browser bundle, from node_modules (``npm ci``)."""
    path = socketio_bundle()
    if path is None:
        raise web.HTTPNotFound(reason="socket.io-client is not installed: run npm ci")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


FILE_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "json": "application/json",
    "css": "text/css; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def _flat_file(request: web.Request, folder: Path, **headers: str) -> web.FileResponse:
    """``{name}.{ext}`` of one flat folder; the route's pattern has checked the name before any file system call."""
    ext = request.match_info["ext"]
    path = folder / f"{request.match_info['name']}.{ext}"
    if not path.is_file():
        raise web.HTTPNotFound(reason="no such file")
    return web.FileResponse(path, headers={"Content-Type": FILE_TYPES[ext], **headers})


@routes.get("/client/{name:[a-z0-9_-]{1,64}}.{ext:js|json}")
async def client_module(request: web.Request) -> web.StreamResponse:
    """The browser client adapter: plain ES modules and the ``protocol.json`` they import, from ``client_adapter/``."""
    return _flat_file(request, CLIENT_ADAPTER_DIR, **{"Cache-Control": "no-cache"})


@routes.get("/static/{name:[A-Za-z0-9_-]{1,64}}.{ext:js|css|html}")
async def static_file(request: web.Request) -> web.StreamResponse:
    """The page's own files, from one flat folder."""
    return _flat_file(request, STATIC_DIR)


@routes.get("/static/languages/{name:[a-z]{2,8}}.{ext:json}")
async def page_strings(request: web.Request) -> web.StreamResponse:
    """The page's strings in one language (``static/languages/{lang}.json``), imported by ``i18n.js``."""
    return _flat_file(request, STATIC_DIR / "languages")


def add_static(app: web.Application) -> None:
    """Register the page routes, ``/static`` included."""
    app.add_routes(routes)
