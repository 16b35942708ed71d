"""Issue 19 row 5: client addresses are counted per IPv4 address and per IPv6 /64; an untrusted X-Forwarded-For is
ignored and logged once."""

from __future__ import annotations

import logging

import pytest

from sio_server.domain.errors import InterviewError
from sio_server.net.client_address import ClientAddress, client_key
from sio_server.settings import Settings
from sio_server.transport.admission import Admission, Refusal


def test_client_key_groups_ipv6_by_64_and_keeps_ipv4_whole():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert client_key("203.0.113.7") == "203.0.113.7" != client_key("203.0.113.8")
    assert client_key("unknown") == "unknown"
    # an IPv4-mapped IPv6 peer is resolved to its IPv4 address first, so it is not lumped into ::ffff:0:0/64
    assert client_key(ClientAddress().resolve("::ffff:203.0.113.7")) == "203.0.113.7"


def test_sockets_and_session_starts_are_counted_per_ipv6_64():
    admission = Admission(max_sockets=100, max_sockets_per_client=2, sessions_per_client_per_minute=2, max_active_sessions=100)
    for n, address in enumerate(["2001:db8::1", "2001:db8::ffff:2"]):
        admission.check_socket(address)
        admission.opened(f"s{n}", address)
    with pytest.raises(Refusal) as refused:
        admission.check_socket("2001:db8:0:0:1234::99")  # another address of the same /64
    assert refused.value.code == "too_many_sockets"
    admission.check_socket("2001:db8:0:1::1")  # the next /64 is another client
    admission.closed("s0")
    admission.check_socket("2001:db8::abcd")  # closing one socket frees one place for the whole /64

    admission.admit_session("2001:db8::1")
    admission.admit_session("2001:db8::2")
    with pytest.raises(InterviewError) as busy:
        admission.admit_session("2001:db8::3")
    assert busy.value.code == "too_many_sessions"
    admission.admit_session("2001:db8:0:1::3")


def test_no_proxy_is_trusted_by_default():
    addresses = ClientAddress.from_settings(Settings(_env_file=None))
    assert addresses.trusted == ()
    assert addresses.resolve("10.0.0.5", ["198.51.100.1"]) == "10.0.0.5", "a private peer names no one else"


def test_forwarded_for_from_an_untrusted_peer_is_logged_once(caplog):
    addresses = ClientAddress()
    with caplog.at_level(logging.WARNING, logger="sio_server.net.client_address"):
        assert addresses.resolve("192.0.2.10", ["198.51.100.1"]) == "192.0.2.10"
        assert addresses.resolve("192.0.2.11", ["198.51.100.2"]) == "192.0.2.11"
        addresses.resolve("192.0.2.12", [])
    lines = [r.getMessage() for r in caplog.records if r.name == "sio_server.net.client_address"]
    assert len(lines) == 1 and "192.0.2.10" in lines[0] and "TRUSTED_PROXIES" in lines[0]


def test_forwarded_for_from_a_trusted_proxy_is_not_warned_about(caplog):
    addresses = ClientAddress.from_settings(Settings(_env_file=None, trusted_proxies="127.0.0.1"))
    with caplog.at_level(logging.WARNING, logger="sio_server.net.client_address"):
        assert addresses.resolve("127.0.0.1", ["198.51.100.1"]) == "198.51.100.1"
    assert not [r for r in caplog.records if r.name == "sio_server.net.client_address"]
