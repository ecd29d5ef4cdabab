"""What the upstream is told about an allowed request (SPEC G6).

Both faces use this: the reverse proxy sets these headers on the upstream request;
forward auth returns them for the proxy in front to copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenward.gate.decision import Allowed
from tokenward.gate.reasons import Reason
from tokenward.gate.service import Verdict


@dataclass(frozen=True, slots=True)
class IdentityHeaders:
    """Names of the trusted identity headers; client copies are always removed."""

    user: str = "X-Tokenward-User"
    groups: str = "X-Tokenward-Groups"
    token_id: str = "X-Tokenward-Token-Id"  # noqa: S105 - a header name
    scope: str = "X-Tokenward-Scope"

    @property
    def names(self) -> tuple[str, str, str, str]:
        return (self.user, self.groups, self.token_id, self.scope)


def identity_values(
    verdict: Verdict, names: IdentityHeaders, *, inject: bool
) -> dict[str, str]:
    """Identity header values for an allowed token request, else empty.

    A password login's username is not vouched for (the upstream checks the
    password), so it never becomes an identity header. With credential injection
    the upstream learns the user from the injected credential instead.
    """
    decision = verdict.decision
    if inject or not isinstance(decision, Allowed):
        return {}
    if decision.reason is not Reason.TOKEN_VALID:
        return {}

    return {
        names.user: decision.username or "",
        names.groups: ",".join(decision.groups),
        names.token_id: decision.token_id or "",
        names.scope: decision.scope or "",
    }


def upstream_authorization(verdict: Verdict, presented: str | None) -> str | None:
    """The Authorization value the upstream should receive, or None for none.

    A tokenward token never reaches the upstream: it is replaced by the injected
    credential, or removed. A password login passes through unchanged.
    """
    decision = verdict.decision
    if verdict.upstream_authorization is not None:
        return verdict.upstream_authorization
    if decision.reason is Reason.PASSWORD_ALLOWED:
        return presented

    return None
