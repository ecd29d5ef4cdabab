"""Headers across the reverse proxy: what passes, what is removed, what is added. Pure.

Hop-by-hop headers (RFC 9110, section 7.6.1) describe one connection, not the
message, so a proxy removes them in both directions: the fixed set below and every
name the `Connection` header lists. The forwarding headers (`X-Forwarded-*`,
`Forwarded`, `X-Real-IP`) are believed, and so passed on, only when the peer is a
trusted proxy; from anyone else they are replaced, because an upstream that reads
them would otherwise take a client's word for where the request came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

RawHeaders = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",  # not standard, still sent by some old clients
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-real-ip",
    }
)


def connection_listed(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The lower-case header names that `Connection` headers name as hop-by-hop."""
    listed: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            listed.update(_canonical(token.strip()) for token in value.split(b","))
    listed.discard(b"")

    return frozenset(listed)


def end_to_end(
    headers: Sequence[tuple[bytes, bytes]], *, also: frozenset[bytes] = frozenset()
) -> RawHeaders:
    """`headers` without hop-by-hop ones and without the lower-case names `also`.

    A name is compared with its underscores read as hyphens: servers that hand
    headers to applications as CGI variables (`HTTP_X_TOKENWARD_USER`) cannot tell
    `X_Tokenward_User` from `X-Tokenward-User`, so a client could otherwise spoof
    a removed header by spelling it with underscores. Order and repeated headers
    (several `Set-Cookie`, say) are kept.
    """
    drop = HOP_BY_HOP | connection_listed(headers) | {_canonical(n) for n in also}

    return [(name, value) for name, value in headers if _canonical(name) not in drop]


def forwarding_headers(
    headers: Sequence[tuple[bytes, bytes]],
    *,
    peer: str | None,
    client: str | None,
    scheme: str,
    host: str | None,
    trusted_peer: bool,
) -> RawHeaders:
    """The forwarding headers for the upstream request.

    `peer` is the TCP peer, `client` the address the gate decided the request came
    from (SPEC G5). A trusted peer's chain is extended with the peer; anyone else's
    is discarded and restarted at the peer. `X-Real-IP` always carries `client`.
    """
    sent: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in FORWARDING:
            sent.setdefault(lower, []).append(value)

    chain: list[bytes] = []
    if trusted_peer:
        chain.extend(sent.get(b"x-forwarded-for", []))
    if peer is not None:
        chain.append(peer.encode("latin-1"))
    result: RawHeaders = []
    if chain:
        result.append((b"x-forwarded-for", b", ".join(chain)))

    proto = _kept(sent, b"x-forwarded-proto", trusted_peer) or scheme.encode("latin-1")
    result.append((b"x-forwarded-proto", proto))
    forwarded_host = _kept(sent, b"x-forwarded-host", trusted_peer)
    if forwarded_host is None and host:
        forwarded_host = host.encode("latin-1")
    if forwarded_host is not None:
        result.append((b"x-forwarded-host", forwarded_host))

    if trusted_peer and sent.get(b"forwarded"):
        element = forwarded_element(peer, scheme=scheme, host=host)
        result.append((b"forwarded", b", ".join([*sent[b"forwarded"], element])))
    if client is not None:
        result.append((b"x-real-ip", client.encode("latin-1")))

    return result


def forwarded_element(peer: str | None, *, scheme: str, host: str | None) -> bytes:
    """One RFC 7239 `Forwarded` element for this hop."""
    parts = [f"for={_node(peer)}", f"proto={scheme}"]
    if host:
        parts.append(f'host="{_quoted(host)}"')

    return ";".join(parts).encode("latin-1")


def _kept(
    sent: dict[bytes, list[bytes]], name: bytes, trusted_peer: bool
) -> bytes | None:
    values = sent.get(name)
    if not trusted_peer or not values:
        return None

    return values[0]


def _node(address: str | None) -> str:
    if address is None:
        return "unknown"
    if ":" in address:
        return f'"[{address}]"'

    return address


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _canonical(name: bytes) -> bytes:
    return name.lower().replace(b"_", b"-")
