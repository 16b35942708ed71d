"""The address of the client behind a request, believing ``X-Forwarded-For`` only from trusted proxies.

python-engineio's aiohttp driver reports ``REMOTE_ADDR`` as 127.0.0.1 for
every client, so the address is taken from the aiohttp request's peer. Behind
reverse proxies, ``X-Forwarded-For`` is walked from the right (as
aiohttp-remotes and Werkzeug's ProxyFix do): each hop that is a trusted proxy
is skipped, and the first one that is not is the client. A client cannot
choose its address by sending the header itself: what it writes is to the
left of what the trusted proxy appends.

No proxy is trusted unless ``TRUSTED_PROXIES`` names it (issue 19 row 5: any
peer behind SNAT shares a private address). The first ``X-Forwarded-For`` from
a peer that is not trusted is logged once, naming the peer, so an operator
behind a proxy sees what to set.

Every limit that counts clients counts :func:`client_key` of the address: an
IPv4 address is one client, an IPv6 address is counted with its whole /64
(one subscriber's prefix holds 2^64 addresses).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web

from ..settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_CLIENT_PREFIX = 64
log = logging.getLogger(__name__)


def parse_networks(text: str) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.0/8, ::1``)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


@lru_cache(maxsize=4096)  # every handshake and session start asks about the same few addresses
def client_key(address: str) -> str:
    """The bucket ``address`` is counted in: an IPv4 address itself, an IPv6 address its /64 (``2001:db8::/64``)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown" or what a proxy wrote: already canonical and bounded
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


class ClientAddress:
    """Resolves the client address of a request from its peer and ``X-Forwarded-For`` headers."""

    def __init__(self, trusted: Iterable[Network] = ()) -> None:
        self.trusted = tuple(trusted)
        self.warned = False  # the one-time warning about X-Forwarded-For from an untrusted peer
        # Every handshake and polling request behind a proxy asks about the same few addresses; parsing one
        # was a quarter of the event loop's busy time in a resume storm (docs/benchmarks.md).
        self.is_trusted = lru_cache(maxsize=4096)(self._is_trusted)

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientAddress:
        """The proxies ``TRUSTED_PROXIES`` names."""
        return cls(parse_networks(settings.trusted_proxies))

    def _is_trusted(self, address: str) -> bool:
        """True when ``address`` is one of the configured proxies."""
        if not self.trusted:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def resolve(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
        """The client address: ``peer`` unless it is a trusted proxy, then the forwarded hops from the right."""
        hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
        address = peer or "unknown"
        if hops and not self.warned and not self.is_trusted(address):
            self.warned = True
            log.warning(
                "X-Forwarded-For from %s, which is not in TRUSTED_PROXIES: the header is ignored and the peer counted "
                "as the client (if %s is your reverse proxy, add it to TRUSTED_PROXIES); logged once",
                *[_canonical(address)] * 2,
            )
        while hops and self.is_trusted(address):
            address = hops.pop()
        return _canonical(address)

    def of(self, request: web.Request) -> str:
        """The client address of an aiohttp request."""
        return self.resolve(request.remote, request.headers.getall("X-Forwarded-For", []))

    def key(self, request: web.Request) -> str:
        """The bucket an aiohttp request's client is counted in (:func:`client_key` of :meth:`of`)."""
        return client_key(self.of(request))


@lru_cache(maxsize=4096)  # every handshake and polling request asks; parsing showed in resume-storm profiles
def _canonical(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]  # not an address (a proxy wrote garbage): still one bucket, bounded
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
