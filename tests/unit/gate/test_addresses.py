"""The client's address behind trusted proxies, IPv4 and IPv6 (G5)."""

from __future__ import annotations

import ipaddress

import pytest

from tokenward.gate.addresses import (
    IPAddress,
    client_address,
    client_from_headers,
    in_networks,
    parse_address,
)

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
PROXY = ipaddress.ip_address("10.0.0.1")
OUTSIDER = ipaddress.ip_address("203.0.113.9")


def address(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


def client(
    peer: IPAddress,
    xff: str | None = None,
    forwarded: str | None = None,
) -> IPAddress | None:
    return client_address(
        peer, x_forwarded_for=xff, forwarded=forwarded, trusted_proxies=TRUSTED
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        (" 192.0.2.1 ", "192.0.2.1"),
        ("192.0.2.1:8080", "192.0.2.1"),
        ('"192.0.2.1"', "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:4711", "2001:db8::1"),
        ('"[2001:db8::1]:4711"', "2001:db8::1"),
        # IPv4-mapped IPv6 is the IPv4 address, so IPv4 ranges apply to it.
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("[::ffff:192.0.2.1]:80", "192.0.2.1"),
    ],
)
def test_parse_address(text: str, expected: str) -> None:
    """Header spellings of an address (ports, brackets, quotes) are understood."""
    assert parse_address(text) == address(expected)


@pytest.mark.parametrize(
    "text", ["", "unknown", "_hidden", "example.org", "300.1.2.3", "[]:80"]
)
def test_unreadable_address(text: str) -> None:
    """What is not an address (names, obfuscated ids, garbage) gives None."""
    assert parse_address(text) is None


def test_ipv4_mapped_peer_matches_ipv4_ranges() -> None:
    """An IPv4-mapped IPv6 address falls within the IPv4 range it maps to."""
    mapped = parse_address("::ffff:10.1.2.3")

    assert mapped is not None
    assert in_networks(mapped, TRUSTED)


def test_untrusted_peer_is_the_client() -> None:
    """A peer that is not a trusted proxy is the client; its headers are ignored."""
    assert client(OUTSIDER, xff="198.51.100.1") == OUTSIDER
    assert client(OUTSIDER, forwarded="for=198.51.100.1") == OUTSIDER


def test_trusted_peer_without_headers_is_the_client() -> None:
    """A trusted proxy that forwards nothing is itself the client."""
    assert client(PROXY) == PROXY
    assert client(PROXY, xff="") == PROXY


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # The rightmost untrusted hop: anything left of it may be forged.
        ("1.1.1.1, 198.51.100.1", "198.51.100.1"),
        ("1.1.1.1, 198.51.100.1, 10.0.0.7", "198.51.100.1"),
        ("1.1.1.1,198.51.100.1,10.0.0.7,10.0.0.8", "198.51.100.1"),
        ("2001:db8::5, fd00::1", "2001:db8::5"),
        ("[2001:db8::5]:1234, fd00::1", "2001:db8::5"),
        ("::ffff:198.51.100.1, 10.0.0.7", "198.51.100.1"),
        # All hops trusted: the leftmost is the client.
        ("10.0.0.5, 10.0.0.6", "10.0.0.5"),
    ],
)
def test_trusted_peer_rightmost_untrusted_forwarded_for(
    xff: str, expected: str
) -> None:
    """Behind trusted proxies, the rightmost untrusted X-Forwarded-For hop is the
    client."""
    assert client(PROXY, xff=xff) == address(expected)


@pytest.mark.parametrize(
    "xff",
    ["1.1.1.1, garbage, 10.0.0.7", "not-an-address", "1.1.1.1, unknown"],
)
def test_garbage_hop_gives_no_client(xff: str) -> None:
    """An unreadable hop at or right of the first untrusted one gives no client."""
    assert client(PROXY, xff=xff) is None


def test_garbage_left_of_the_client_is_ignored() -> None:
    """Hops left of the rightmost untrusted one are never read."""
    assert client(PROXY, xff="garbage, 198.51.100.1") == address("198.51.100.1")


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("for=198.51.100.1", "198.51.100.1"),
        ("For=198.51.100.1;proto=https;by=10.0.0.1", "198.51.100.1"),
        ('for="[2001:db8::1]:4711"', "2001:db8::1"),
        ('for=192.0.2.43, for="[2001:db8::1]:4711", for=10.0.0.3', "2001:db8::1"),
        ("for=1.1.1.1;proto=http, for=198.51.100.1", "198.51.100.1"),
        ("for=10.0.0.3, for=10.0.0.4", "10.0.0.3"),
    ],
)
def test_forwarded_header(forwarded: str, expected: str) -> None:
    """RFC 7239 Forwarded is read like X-Forwarded-For, IPv6 literals included."""
    assert client(PROXY, forwarded=forwarded) == address(expected)


def test_forwarded_is_preferred_over_x_forwarded_for() -> None:
    """When both are sent, Forwarded decides."""
    assert client(PROXY, xff="1.1.1.1", forwarded="for=2.2.2.2") == address("2.2.2.2")


def test_forwarded_obfuscated_identifier_gives_no_client() -> None:
    """An obfuscated or unknown `for=` is not an address: no client."""
    assert client(PROXY, forwarded="for=_hidden") is None
    assert client(PROXY, forwarded="for=unknown") is None


def test_forwarded_without_for_falls_back_to_the_peer() -> None:
    """A Forwarded header with no `for=` names no hop: the proxy is the client."""
    assert client(PROXY, forwarded="proto=https;by=10.0.0.1") == PROXY


def test_trusted_ipv6_peer() -> None:
    """A trusted IPv6 proxy's headers are believed like an IPv4 one's."""
    assert client(address("fd00::2"), xff="198.51.100.1") == address("198.51.100.1")


def test_only_the_configured_forwarding_header_is_believed() -> None:
    """A client's own Forwarded header, passed through by a proxy that appends to
    X-Forwarded-For, does not choose the client's address (and vice versa)."""
    headers = {
        "x-forwarded-for": "198.51.100.7",
        "forwarded": "for=203.0.113.66",
    }

    by_xff = client_from_headers(
        PROXY, headers, header="x-forwarded-for", trusted_proxies=TRUSTED
    )
    by_forwarded = client_from_headers(
        PROXY, headers, header="forwarded", trusted_proxies=TRUSTED
    )

    assert by_xff == address("198.51.100.7")
    assert by_forwarded == address("203.0.113.66")
