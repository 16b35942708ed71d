"""The address of the client behind a request, believing ``X-Forwarded-For`` only from trusted proxies.

python-engineio's aiohttp driver reports ``REMOTE_ADDR`` as 127.0.0.1 for
every client, so the address is taken from the aiohttp request's peer. Behind
reverse proxies, ``X-Forwarded-For`` is walked from the right (as
aiohttp-remotes and Werkzeug's ProxyFix do): each hop that is a trusted proxy
is skipped, and the first one that is not is the client. A client cannot
choose its address by sending the header itself: what it writes is to the
left of what the trusted proxy appends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.0/8, ::1``)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class ClientAddress:
    """Resolves the client address of a request from its peer and ``X-Forwarded-For`` headers."""

    def __init__(self, trusted: Iterable[Network] = ()) -> None:
        self.trusted = tuple(trusted)
        # Every handshake and polling request behind a proxy asks about the same few addresses; parsing one
        # was a quarter of the event loop's busy time in a resume storm (docs/benchmarks.md).
        self.is_trusted = lru_cache(maxsize=4096)(self._is_trusted)

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
        while hops and self.is_trusted(address):
            address = hops.pop()
        return _canonical(address)


@lru_cache(maxsize=4096)  # every handshake and polling request asks; parsing showed in resume-storm profiles
def _canonical(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]  # not an address (a proxy wrote garbage): still one bucket, bounded
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
