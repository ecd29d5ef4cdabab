"""What the upstream is told about an allowed request (G6)."""

from __future__ import annotations

import pytest

from tokenward.gate.decision import Allowed, Decision, Denied
from tokenward.gate.identity import (
    IdentityHeaders,
    identity_values,
    upstream_authorization,
)
from tokenward.gate.reasons import Reason
from tokenward.gate.service import Verdict

TOKEN_ALLOWED = Allowed(
    Reason.TOKEN_VALID,
    token_id="0123456789abcdef",
    username="alice",
    groups=("developers", "staff"),
    scope="read-only",
)
PRESENTED = "Bearer tw_presented"


def test_token_allow_names_user_groups_token_and_scope() -> None:
    """An allowed token gives the four identity headers under the default names."""
    values = identity_values(Verdict(TOKEN_ALLOWED), IdentityHeaders(), inject=False)

    assert values == {
        "X-Tokenward-User": "alice",
        "X-Tokenward-Groups": "developers,staff",
        "X-Tokenward-Token-Id": "0123456789abcdef",
        "X-Tokenward-Scope": "read-only",
    }


def test_header_names_are_configurable() -> None:
    """Configured names replace the defaults."""
    names = IdentityHeaders(
        user="X-Remote-User", groups="X-Remote-Groups", token_id="X-Id", scope="X-S"
    )

    values = identity_values(Verdict(TOKEN_ALLOWED), names, inject=False)

    assert set(values) == {"X-Remote-User", "X-Remote-Groups", "X-Id", "X-S"}
    assert names.names == ("X-Remote-User", "X-Remote-Groups", "X-Id", "X-S")


def test_owner_without_groups() -> None:
    """An owner in no group gets an empty groups header, not a missing one."""
    allowed = Allowed(Reason.TOKEN_VALID, token_id="t", username="bob", scope="x")

    values = identity_values(Verdict(allowed), IdentityHeaders(), inject=False)

    assert values["X-Tokenward-Groups"] == ""


@pytest.mark.parametrize(
    "decision",
    [
        Allowed(Reason.PASSWORD_ALLOWED, username="alice"),
        Allowed(Reason.NO_CREDENTIALS),
        Denied(Reason.READ_ONLY_SCOPE, token_id="t", username="alice"),
        Denied(Reason.UNAVAILABLE),
    ],
    ids=lambda decision: str(decision.reason),
)
def test_no_identity_unless_a_token_vouches(decision: Decision) -> None:
    """Password logins, anonymous requests and refusals carry no identity headers."""
    assert identity_values(Verdict(decision), IdentityHeaders(), inject=False) == {}


def test_no_identity_headers_with_injection() -> None:
    """With credential injection the upstream learns the user from the credential."""
    verdict = Verdict(TOKEN_ALLOWED, upstream_authorization="Bearer upstream-pat")

    assert identity_values(verdict, IdentityHeaders(), inject=True) == {}


def test_injected_credential_replaces_the_token() -> None:
    """With injection, the upstream sees the stored credential instead of the token."""
    verdict = Verdict(TOKEN_ALLOWED, upstream_authorization="Bearer upstream-pat")

    assert upstream_authorization(verdict, PRESENTED) == "Bearer upstream-pat"


def test_token_never_reaches_the_upstream() -> None:
    """Without injection, the tokenward token is removed, not passed on."""
    assert upstream_authorization(Verdict(TOKEN_ALLOWED), PRESENTED) is None


def test_password_passes_through_unchanged() -> None:
    """A permitted password login reaches the upstream as sent, to be checked there."""
    verdict = Verdict(Allowed(Reason.PASSWORD_ALLOWED, username="alice"))

    assert upstream_authorization(verdict, "Basic YWxpY2U6aHVudGVyMg==") == (
        "Basic YWxpY2U6aHVudGVyMg=="
    )


def test_anonymous_gets_no_authorization() -> None:
    """A request without credentials gets none added."""
    verdict = Verdict(Allowed(Reason.NO_CREDENTIALS))

    assert upstream_authorization(verdict, None) is None
