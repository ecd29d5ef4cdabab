"""The kinds of upstream credential, their valid values, and the Authorization
value each becomes. Pure.

- `bearer`: a personal access token (Jira, Confluence, Bitbucket Data Center),
  sent as `Authorization: Bearer <token>`.
- `basic`: `username:password` (or `username:token`), sent as
  `Authorization: Basic base64(username:password)`.

Error messages never quote the value.
"""

from __future__ import annotations

import base64
import enum
import re

from tokenward.errors import InvalidInputError

MAX_VALUE_LENGTH = 4096
# A token travels as one header word: visible ASCII, no spaces.
_BEARER = re.compile(r"[\x21-\x7e]+")
# Control characters would let a value split or end the header it is sent in.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Scheme(enum.StrEnum):
    BEARER = "bearer"
    BASIC = "basic"


def check_value(scheme: Scheme, value: str) -> str:
    """`value` as it will be stored if it is a well-formed credential of `scheme`,
    else InvalidInputError. White space around a token (a pasted line end) is
    dropped; a password is kept exactly as given."""
    if scheme is Scheme.BEARER:
        value = value.strip()
    if not value:
        raise InvalidInputError("the credential is empty", field="value")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidInputError(
            f"the credential is longer than {MAX_VALUE_LENGTH} characters",
            field="value",
        )
    if scheme is Scheme.BEARER and not _BEARER.fullmatch(value):
        raise InvalidInputError(
            "a bearer credential is one word of visible ASCII characters, "
            "without spaces",
            field="value",
        )
    if scheme is Scheme.BASIC:
        username, colon, _password = value.partition(":")
        if not colon or not username:
            raise InvalidInputError(
                "a basic credential is written username:password", field="value"
            )
        if _CONTROL.search(value):
            raise InvalidInputError(
                "a basic credential may not contain control characters",
                field="value",
            )

    return value


def authorization(scheme: Scheme, value: str) -> str:
    """The full Authorization header value that presents `value` upstream."""
    if scheme is Scheme.BEARER:
        return f"Bearer {value}"
    encoded = base64.b64encode(value.encode()).decode("ascii")

    return f"Basic {encoded}"
