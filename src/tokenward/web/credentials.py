"""Reading a tokenward token out of an `Authorization` header. Pure.

Bearer carries the token alone; Basic carries `username:token`. Anything else, or a
header that does not decode, is no credential at all.
"""

from __future__ import annotations

from base64 import b64decode
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Credential:
    secret: str
    # Set for Basic: it must then name the token's owner.
    username: str | None = None

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, secret='***')"


def parse_authorization(header: str | None) -> Credential | None:
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    if scheme.lower() == "bearer":
        return Credential(secret=value)
    if scheme.lower() == "basic":
        return _parse_basic(value)

    return None


def _parse_basic(value: str) -> Credential | None:
    try:
        decoded = b64decode(value, validate=True).decode("utf-8")
    except ValueError:
        # binascii.Error and UnicodeDecodeError are ValueErrors, and b64decode
        # refuses a str with non-ASCII characters with a plain ValueError.
        return None
    username, separator, password = decoded.partition(":")
    if not separator:
        return None

    return Credential(secret=password, username=username)
