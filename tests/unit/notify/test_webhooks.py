"""The webhook signature: HMAC-SHA256 over timestamp, a dot, and the body."""

from __future__ import annotations

import hashlib
import hmac

from tokenward.notify.webhooks import signature


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """The header value is `sha256=` and the hex HMAC of `<timestamp>.<body>`."""
    body = b'{"event":"test"}'
    expected = hmac.new(b"k" * 20, b"1700000000." + body, hashlib.sha256).hexdigest()

    assert signature("k" * 20, 1700000000, body) == f"sha256={expected}"


def test_signature_binds_the_timestamp() -> None:
    """The same body sent at another time has another signature."""
    assert signature("k" * 20, 1, b"{}") != signature("k" * 20, 2, b"{}")
