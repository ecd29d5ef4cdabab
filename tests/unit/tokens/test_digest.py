"""The keyed digest under which tokens are stored (T2)."""

from __future__ import annotations

from tokenward.tokens.digest import DIGEST_SIZE, token_digest
from tokenward.tokens.format import generate

KEY = b"k" * 32
OTHER_KEY = b"j" * 32


def test_digest_is_deterministic() -> None:
    """The same key and token always give the same digest."""
    token = generate("tw")

    assert token_digest(KEY, token) == token_digest(KEY, token)


def test_digest_depends_on_the_key() -> None:
    """Another instance secret gives another digest for the same token."""
    token = generate("tw")

    assert token_digest(KEY, token) != token_digest(OTHER_KEY, token)


def test_digest_is_32_bytes() -> None:
    """A digest is 32 bytes, the width of its column."""
    digest = token_digest(KEY, generate("tw"))

    assert len(digest) == DIGEST_SIZE == 32


def test_digest_differs_per_token() -> None:
    """Distinct tokens have distinct digests."""
    tokens = {generate("tw") for _ in range(200)}

    assert len({token_digest(KEY, token) for token in tokens}) == len(tokens)


def test_digest_does_not_contain_the_token() -> None:
    """The digest holds no readable trace of the token it was made from."""
    token = generate("tw")
    digest = token_digest(KEY, token)

    assert token.encode() not in digest
    assert token[3:13].encode() not in digest
