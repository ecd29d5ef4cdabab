"""Headers across the reverse proxy: hop-by-hop removal and forwarding headers."""

from __future__ import annotations

from tokenward.gate.hop import (
    connection_listed,
    end_to_end,
    forwarded_element,
    forwarding_headers,
)


def test_hop_by_hop_headers_and_those_connection_names_are_removed() -> None:
    """The fixed hop-by-hop set and every name Connection lists are dropped."""
    headers = [
        (b"Connection", b"keep-alive, X-Hop"),
        (b"connection", b"X-Other-Hop"),
        (b"X-Hop", b"1"),
        (b"x-other-hop", b"2"),
        (b"Keep-Alive", b"timeout=5"),
        (b"TE", b"trailers"),
        (b"Trailer", b"Expires"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Upgrade", b"h2c"),
        (b"Proxy-Authorization", b"Basic eDp5"),
        (b"Proxy-Authenticate", b"Basic"),
        (b"Proxy-Connection", b"keep-alive"),
        (b"Accept", b"application/json"),
    ]

    assert end_to_end(headers) == [(b"Accept", b"application/json")]


def test_order_and_repeated_headers_are_kept() -> None:
    """Repeated end-to-end headers, such as Set-Cookie, pass in order."""
    headers = [
        (b"set-cookie", b"a=1"),
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"b=2"),
    ]

    assert end_to_end(headers) == headers


def test_extra_names_are_removed_in_any_case() -> None:
    """Names given in `also` (lower-case) are dropped whatever case is sent."""
    headers = [(b"X-Tokenward-User", b"mallory"), (b"accept", b"*/*")]

    assert end_to_end(headers, also=frozenset({b"x-tokenward-user"})) == [
        (b"accept", b"*/*")
    ]


def test_connection_tokens_are_trimmed_and_lower_cased() -> None:
    """Connection lists are split on commas; blanks are ignored."""
    listed = connection_listed([(b"Connection", b" Close , X-A,, ")])

    assert listed == frozenset({b"close", b"x-a"})


def test_an_untrusted_peer_gets_a_fresh_chain() -> None:
    """From an untrusted peer, sent forwarding headers are replaced."""
    headers = [
        (b"x-forwarded-for", b"203.0.113.9"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"evil.example"),
        (b"forwarded", b"for=203.0.113.9"),
    ]

    result = forwarding_headers(
        headers,
        peer="192.0.2.10",
        client="192.0.2.10",
        scheme="http",
        host="jira.example.com",
        trusted_peer=False,
    )

    assert result == [
        (b"x-forwarded-for", b"192.0.2.10"),
        (b"x-forwarded-proto", b"http"),
        (b"x-forwarded-host", b"jira.example.com"),
        (b"x-real-ip", b"192.0.2.10"),
    ]


def test_a_trusted_peer_chain_is_extended() -> None:
    """From a trusted peer, the chain is kept and the peer appended, repeated
    X-Forwarded-For headers joined in order."""
    headers = [
        (b"X-Forwarded-For", b"198.51.100.1"),
        (b"X-Forwarded-For", b"10.0.0.5"),
        (b"X-Forwarded-Proto", b"https"),
        (b"Forwarded", b"for=198.51.100.1"),
    ]

    result = dict(
        forwarding_headers(
            headers,
            peer="10.0.0.9",
            client="198.51.100.1",
            scheme="http",
            host="jira.example.com",
            trusted_peer=True,
        )
    )

    assert result[b"x-forwarded-for"] == b"198.51.100.1, 10.0.0.5, 10.0.0.9"
    assert result[b"x-forwarded-proto"] == b"https"
    assert result[b"x-forwarded-host"] == b"jira.example.com"
    assert result[b"forwarded"] == (
        b'for=198.51.100.1, for=10.0.0.9;proto=http;host="jira.example.com"'
    )
    assert result[b"x-real-ip"] == b"198.51.100.1"


def test_an_ipv6_node_is_bracketed_and_quoted() -> None:
    """RFC 7239 writes an IPv6 node in brackets, inside quotes."""
    element = forwarded_element("2001:db8::1", scheme="https", host=None)

    assert element == b'for="[2001:db8::1]";proto=https'


def test_a_missing_peer_or_client_adds_no_address() -> None:
    """Without a TCP peer (a Unix socket), no address is invented."""
    result = dict(
        forwarding_headers(
            [], peer=None, client=None, scheme="http", host=None, trusted_peer=False
        )
    )

    assert result == {b"x-forwarded-proto": b"http"}


def test_a_removed_name_spelled_with_underscores_is_removed_too() -> None:
    """`X_Tokenward_User` reaches a CGI-style upstream as the same variable as
    `X-Tokenward-User`, so it is removed with it, whichever way `also` spells it."""
    headers = [
        (b"X_Tokenward_User", b"mallory"),
        (b"x-remote_user", b"mallory"),
        (b"X_Forwarded_For", b"203.0.113.9"),
        (b"accept", b"*/*"),
    ]
    also = frozenset({b"x-tokenward-user", b"x_remote_user", b"x-forwarded-for"})

    assert end_to_end(headers, also=also) == [(b"accept", b"*/*")]


def test_connection_may_name_a_header_with_underscores() -> None:
    """A name listed in Connection is matched the same way."""
    headers = [(b"connection", b"X_Hop"), (b"x-hop", b"1"), (b"x-kept", b"1")]

    assert end_to_end(headers) == [(b"x-kept", b"1")]
