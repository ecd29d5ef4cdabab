"""The stable reason codes of gate decisions (SPEC G2).

A code appears alike in the HTTP answer (`X-Tokenward-Reason`), the metric label and
the audit record. Add members; never rename one.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    # Allowed.
    TOKEN_VALID = "token_valid"
    PASSWORD_ALLOWED = "password_allowed"
    NO_CREDENTIALS = "no_credentials"
    # Refused: the credential itself.
    TOKEN_REQUIRED = "token_required"
    MALFORMED_CREDENTIALS = "malformed_credentials"
    MALFORMED_TOKEN = "malformed_token"
    TOKEN_IN_URL = "token_in_url"
    UNKNOWN_TOKEN = "unknown_token"
    TOKEN_REVOKED = "token_revoked"
    TOKEN_EXPIRED = "token_expired"
    USERNAME_MISMATCH = "username_mismatch"
    PASSWORD_DENIED = "password_denied"
    # Refused: who, where and what.
    OWNER_DISABLED = "owner_disabled"
    OWNER_NOT_PERMITTED = "owner_not_permitted"
    NETWORK_NOT_ALLOWED = "network_not_allowed"
    TOKEN_NETWORK_NOT_ALLOWED = "token_network_not_allowed"
    READ_ONLY_SCOPE = "read_only_scope"
    HEADER_MISMATCH = "header_mismatch"
    UPSTREAM_CREDENTIAL_MISSING = "upstream_credential_missing"
    # Refused: the request cannot be judged as sent.
    INVALID_REQUEST = "invalid_request"
    # Refused: too much, or cannot decide.
    RATE_LIMITED = "rate_limited"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"

    @property
    def allows(self) -> bool:
        return self in _ALLOWING

    @property
    def status(self) -> int:
        """The HTTP status of a refusal for this reason (200 when it allows)."""
        return _STATUS.get(self, 403)


_ALLOWING = frozenset(
    {Reason.TOKEN_VALID, Reason.PASSWORD_ALLOWED, Reason.NO_CREDENTIALS}
)
_STATUS = {
    Reason.TOKEN_VALID: 200,
    Reason.PASSWORD_ALLOWED: 200,
    Reason.NO_CREDENTIALS: 200,
    Reason.TOKEN_REQUIRED: 401,
    Reason.MALFORMED_CREDENTIALS: 401,
    Reason.MALFORMED_TOKEN: 401,
    Reason.TOKEN_IN_URL: 401,
    Reason.UNKNOWN_TOKEN: 401,
    Reason.TOKEN_REVOKED: 401,
    Reason.TOKEN_EXPIRED: 401,
    Reason.USERNAME_MISMATCH: 401,
    Reason.PASSWORD_DENIED: 401,
    Reason.INVALID_REQUEST: 400,
    Reason.RATE_LIMITED: 429,
    Reason.THROTTLED: 429,
    Reason.UNAVAILABLE: 503,
}
