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


CLIENT_MODULE_TYPES = {"js": "text/javascript", "json": "application/json"}


@routes.get("/client/{name:[a-z0-9_-]+}.{ext:js|json}")
async def client_module(request: web.Request) -> web.StreamResponse:
    """The browser client adapter: plain ES modules and the ``protocol.json`` they import, from ``client_adapter/``."""
    ext = request.match_info["ext"]
    path = CLIENT_ADAPTER_DIR / f"{request.match_info['name']}.{ext}"
    if not path.is_file():
        raise web.HTTPNotFound(reason="no such module")
    return web.FileResponse(path, headers={"Content-Type": CLIENT_MODULE_TYPES[ext], "Cache-Control": "no-cache"})


STATIC_TYPES = {"js": "text/javascript", "css": "text/css", "html": "text/html"}


@routes.get("/static/{name:[A-Za-z0-9_-]{1,64}}.{ext:js|css|html}")
async def static_file(request: web.Request) -> web.StreamResponse:
    """The page's own files: one flat folder, names checked by the route before any file system call."""
    ext = request.match_info["ext"]
    path = STATIC_DIR / f"{request.match_info['name']}.{ext}"
    if not path.is_file():
        raise web.HTTPNotFound(reason="no such file")
    return web.FileResponse(path, headers={"Content-Type": f"{STATIC_TYPES[ext]}; charset=utf-8"})


def add_static(app: web.Application) -> None:
    """Register the page routes, ``/static`` included."""
    app.add_routes(routes)
