"""Reading a tokenward token out of an Authorization header (G1)."""

from __future__ import annotations

import base64

import pytest

from tokenward.web.credentials import Credential, parse_authorization

TOKEN = "tw_notarealtokenbutwellshapedenough123456"


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_carries_the_token(scheme: str) -> None:
    """A Bearer header gives the token, whatever the case of the scheme."""
    assert parse_authorization(f"{scheme} {TOKEN}") == Credential(secret=TOKEN)


def test_bearer_ignores_surrounding_whitespace() -> None:
    """Whitespace around the scheme and the token is not part of the token."""
    assert parse_authorization(f"  Bearer   {TOKEN}  ") == Credential(secret=TOKEN)


def test_basic_carries_username_and_token() -> None:
    """A Basic header gives the username and, as the password, the token."""
    credential = parse_authorization(_basic(f"alice:{TOKEN}"))

    assert credential == Credential(secret=TOKEN, username="alice")


def test_basic_password_may_contain_colons() -> None:
    """Only the first colon separates the username from the password."""
    credential = parse_authorization(_basic("alice:pass:word"))

    assert credential == Credential(secret="pass:word", username="alice")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer    ",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic YWxpY2U",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic é",
        _basic("alice-without-colon"),
        f"Token {TOKEN}",
        f"Digest {TOKEN}",
        TOKEN,
    ],
)
def test_anything_else_is_no_credential(header: str | None) -> None:
    """Missing, malformed, undecodable or unknown-scheme headers give no credential."""
    assert parse_authorization(header) is None


def test_repr_hides_the_secret() -> None:
    """A credential's repr shows the username but never the token."""
    shown = repr(Credential(secret=TOKEN, username="alice"))

    assert TOKEN not in shown
    assert "alice" in shown
