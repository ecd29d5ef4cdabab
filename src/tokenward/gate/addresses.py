"""The client's address (SPEC G5). Pure.

The TCP peer is the client unless it is a configured trusted proxy. Then the
forwarding headers are read from the right, skipping trusted proxies, and the
first untrusted address is the client: everything further left was written by
parties we do not trust and may be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Literal

ForwardingHeader = Literal["x-forwarded-for", "forwarded"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8192)
def parse_address(text: str) -> IPAddress | None:
    """An address from a header value: tolerates IPv6 brackets and ports.

    Cached: the same few proxy and client addresses arrive again and again, and
    `ipaddress` parsing costs more than the rest of a cached decision.
    """
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped

    return address


def in_networks(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def client_address(
    peer: IPAddress,
    *,
    x_forwarded_for: str | None,
    forwarded: str | None,
    trusted_proxies: Sequence[IPNetwork],
) -> IPAddress | None:
    """The client's address, or None if a trusted proxy sent an unreadable chain.

    `Forwarded` (RFC 7239) is preferred over `X-Forwarded-For` when both are given;
    the gate gives only the one header its proxies are configured to write (see
    `client_from_headers`).
    """
    if not in_networks(peer, trusted_proxies):
        return peer
    hops = _forwarded_hops(forwarded) if forwarded else _xff_hops(x_forwarded_for)
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # An unreadable hop: whatever stands left of it cannot be trusted.
            return None
        if not in_networks(address, trusted_proxies):
            return address

    # Every hop is a trusted proxy (or there were none): the leftmost is the client.
    return parse_address(hops[0]) if hops else peer


def client_from_headers(
    peer: IPAddress,
    headers: Mapping[str, str],
    *,
    header: ForwardingHeader,
    trusted_proxies: Sequence[IPNetwork],
) -> IPAddress | None:
    """The client's address from the one forwarding header the proxies write.

    The other header is ignored: nginx, Caddy and Traefik append to
    X-Forwarded-For but pass a client's own `Forwarded` through untouched, so
    believing both would let a client choose its address.
    """
    value = headers.get(header)

    return client_address(
        peer,
        x_forwarded_for=value if header == "x-forwarded-for" else None,
        forwarded=value if header == "forwarded" else None,
        trusted_proxies=trusted_proxies,
    )


def _xff_hops(header: str | None) -> list[str]:
    return [hop for hop in (header or "").split(",") if hop.strip()]


def _forwarded_hops(header: str) -> list[str]:
    hops = []
    for element in header.split(","):
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "for":
                hops.append(value)

    return hops
