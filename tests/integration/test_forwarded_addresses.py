"""Issue 19 row 5: with default settings no peer may name its own address in X-Forwarded-For.

A real server process on its defaults (``TRUSTED_PROXIES`` empty): one peer
opening 60 Engine.IO sockets, each naming another address in
``X-Forwarded-For``, is one client and gets ``MAX_SOCKETS_PER_CLIENT`` (20) of
them; the server says once in its log that it ignored the header.
"""

from __future__ import annotations

import aiohttp

from sio_server.devtools.process import ServerProcess

HANDSHAKES = 60
MAX_SOCKETS_PER_CLIENT = 20  # the default


async def handshake(http: aiohttp.ClientSession, url: str, forwarded_for: str) -> int:
    """A polling handshake naming ``forwarded_for``: its HTTP status (the socket stays open until its ping times out)."""
    async with http.get(f"{url}/socket.io/?EIO=4&transport=polling", headers={"X-Forwarded-For": forwarded_for}) as r:
        await r.read()
        return r.status


async def test_sixty_forwarded_addresses_from_one_peer_get_twenty_sockets(server_factory):
    server: ServerProcess = server_factory().start()
    async with aiohttp.ClientSession() as http:
        statuses = [await handshake(http, server.url, f"198.51.100.{n + 1}") for n in range(HANDSHAKES)]
    assert statuses.count(200) == MAX_SOCKETS_PER_CLIENT, statuses
    assert statuses.count(429) == HANDSHAKES - MAX_SOCKETS_PER_CLIENT, statuses
    log = server.log_path.read_text(errors="replace")
    assert log.count("which is not in TRUSTED_PROXIES") == 1, server.log()
    assert "X-Forwarded-For from 127.0.0.1" in log
