"""What a request presents (G1), tokens in the URL, and sessions (G4)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from tests.unit.gate.decisions import (
    PREFIX,
    TOKEN,
    basic,
    bearer,
    decide,
    request,
    snapshot,
)
from tokenward.gate.decision import (
    Allowed,
    GatePolicy,
    NoCredentials,
    PasswordCredential,
    TokenCredential,
    classify,
)
from tokenward.gate.reasons import Reason


def test_no_authorization_is_no_credentials() -> None:
    """A request without Authorization presents nothing."""
    assert isinstance(classify(request(authorization=None), PREFIX), NoCredentials)


def test_bearer_token() -> None:
    """Bearer carries a token and no username."""
    credential = classify(request(), PREFIX)

    assert credential == TokenCredential(secret=TOKEN)


def test_basic_token_names_the_user() -> None:
    """Basic with a token as password carries the token and the username."""
    credential = classify(request(authorization=basic("alice", TOKEN)), PREFIX)

    assert credential == TokenCredential(secret=TOKEN, username="alice")


def test_token_secret_is_not_in_the_repr() -> None:
    """A credential's repr never shows the token."""
    assert TOKEN not in repr(classify(request(), PREFIX))


@pytest.mark.parametrize("password", ["hunter2", "correct horse", "", "xx_abc"])
def test_basic_password_is_a_password_login(password: str) -> None:
    """Basic with anything not carrying our prefix is a password login."""
    credential = classify(request(authorization=basic("alice", password)), PREFIX)

    assert credential == PasswordCredential(username="alice")


@pytest.mark.parametrize(
    "authorization",
    [
        basic("alice", TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B")),
        basic("alice", PREFIX + "_short"),
        bearer(TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B")),
        bearer("hunter2"),
        bearer(TOKEN + "x"),
    ],
)
def test_malformed_token_is_never_a_password(authorization: str) -> None:
    """A bad token, Basic or Bearer, is refused as such, never tried as a password."""
    assert decide(request(authorization=authorization)).reason is (
        Reason.MALFORMED_TOKEN
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer   ",
        "Digest username=alice",
        "Negotiate abc",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "",
    ],
)
def test_malformed_credentials(authorization: str) -> None:
    """An Authorization header we cannot read is refused, not passed through."""
    assert decide(request(authorization=authorization)).reason is (
        Reason.MALFORMED_CREDENTIALS
    )


# Tokens in the URL.


@pytest.mark.parametrize(
    "query",
    [
        f"access_token={TOKEN}",
        f"jql=project%3DX&token={TOKEN}",
        TOKEN,
        f"t={quote(TOKEN, safe='')}",
        quote(f"token={TOKEN}", safe=""),
        "".join(f"%{byte:02X}" for byte in f"t={TOKEN}".encode()),
    ],
)
def test_token_in_the_query_is_refused(query: str) -> None:
    """A token anywhere in the query, encoded or not, is refused first of all."""
    assert decide(request(query=query)).reason is Reason.TOKEN_IN_URL
    assert decide(request(query=query, authorization=None)).reason is (
        Reason.TOKEN_IN_URL
    )
    assert decide(request(query=query, authorization="Digest x")).reason is (
        Reason.TOKEN_IN_URL
    )


@pytest.mark.parametrize(
    "query",
    [
        "jql=assignee%3Dtw_team",
        f"x={TOKEN[:-1]}{'A' if TOKEN[-1] != 'A' else 'B'}",
        f"x={TOKEN.replace(PREFIX + '_', 'zz_', 1)}",
        "tw_=1",
    ],
)
def test_look_alikes_in_the_query_are_not_tokens(query: str) -> None:
    """Query text that is not one of our tokens (bad checksum, other prefix) passes."""
    assert decide(request(query=query), snapshot()).reason is Reason.TOKEN_VALID


# Sessions (G4).


def test_anonymous_passes_through() -> None:
    """No credentials and no token-only path: passed through untouched."""
    assert decide(request(authorization=None)) == Allowed(Reason.NO_CREDENTIALS)


def test_token_only_paths_refuse_anonymous() -> None:
    """On a token-only path a request without credentials is refused."""
    policy = GatePolicy(token_only_paths=("/rest/**",))

    assert decide(request(authorization=None), policy=policy).reason is (
        Reason.TOKEN_REQUIRED
    )
    assert decide(
        request(authorization=None, path="/secure/Dashboard.jspa"), policy=policy
    ).reason is (Reason.NO_CREDENTIALS)
