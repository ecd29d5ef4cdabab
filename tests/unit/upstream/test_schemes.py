"""Upstream credential values: what is accepted, and the Authorization each gives."""

from __future__ import annotations

import base64

import pytest

from tokenward.errors import InvalidInputError
from tokenward.upstream.schemes import (
    MAX_VALUE_LENGTH,
    Scheme,
    authorization,
    check_value,
)


def test_bearer_becomes_a_bearer_authorization() -> None:
    """A bearer value is sent as `Bearer <value>`."""
    assert authorization(Scheme.BEARER, "abc.DEF-123") == "Bearer abc.DEF-123"


def test_basic_becomes_base64_of_the_pair() -> None:
    """A basic value is sent as `Basic base64(username:password)`, in UTF-8."""
    value = authorization(Scheme.BASIC, "jdoe:pä ss")

    scheme, encoded = value.split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "jdoe:pä ss"


def test_bearer_white_space_around_is_dropped() -> None:
    """A pasted token with a line end is stored without it."""
    assert check_value(Scheme.BEARER, "  token123\n") == "token123"


def test_basic_password_is_kept_exactly() -> None:
    """Spaces in and around a password are part of it."""
    assert check_value(Scheme.BASIC, "jdoe: secret ") == "jdoe: secret "


@pytest.mark.parametrize(
    ("scheme", "value", "message"),
    [
        (Scheme.BEARER, "", "empty"),
        (Scheme.BEARER, "   ", "empty"),
        (Scheme.BEARER, "two words", "one word"),
        (Scheme.BEARER, "tökén", "one word"),
        (Scheme.BEARER, "x" * (MAX_VALUE_LENGTH + 1), "longer"),
        (Scheme.BASIC, "no-colon", "username:password"),
        (Scheme.BASIC, ":password-only", "username:password"),
        (Scheme.BASIC, "jdoe:line\r\nX-Injected: 1", "control"),
        (Scheme.BASIC, "jdoe:tab\tinside", "control"),
    ],
)
def test_malformed_values_are_refused(scheme: Scheme, value: str, message: str) -> None:
    """Each malformed value is refused with a reason that does not quote it."""
    with pytest.raises(InvalidInputError) as raised:
        check_value(scheme, value)

    assert message in raised.value.message
    assert raised.value.field == "value"
    if value.strip():
        assert value.strip() not in raised.value.message
