"""The aiohttp session that a vendor client owns, or borrows from its caller."""

from __future__ import annotations

import aiohttp


class SessionOwner:
    """Holds an ``aiohttp.ClientSession``: the one passed in, or one made on first use and closed by :meth:`aclose`."""

    def __init__(self, session: aiohttp.ClientSession | None = None, *, limit: int = 100) -> None:
        self._session = session
        self._own_session = session is None
        self._limit = limit  # connections at once of a session made here (aiohttp's default: 100)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._limit))
            self._own_session = True
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
