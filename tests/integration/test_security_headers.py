"""Issue 13 row 10: security headers on every response, no versions, no paths, no inline script on the page."""

from __future__ import annotations

import re

import aiohttp

from sio_server.app import create_app
from sio_server.web.pages import STATIC_DIR

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def test_headers_on_the_page_api_errors_and_socketio(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings))
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/healthz", "/readyz", "/no/such/route", "/socket.io/?EIO=4&transport=polling", "/static/style.css"):
            r = await http.get(str(server.make_url(path)))
            for name, value in EXPECTED.items():
                assert r.headers.get(name) == value, (path, name)
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert not re.search(r"python|aiohttp|\d+\.\d+", r.headers.get("Server", ""), re.IGNORECASE), r.headers.get("Server")


def test_the_page_has_no_inline_script():
    page = (STATIC_DIR / "index.html").read_text()
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.DOTALL):
        assert not tag.strip(), "inline script would be blocked by the CSP"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handlers would be blocked by the CSP"
