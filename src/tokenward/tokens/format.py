"""The token string: `<prefix>_<body><checksum>` (SPEC T1).

The body is 30 base62 characters drawn with `secrets` (178 bits). The checksum is the
CRC32 of `<prefix>_<body>` written as 6 base62 characters, so a mistyped or truncated
token, or random garbage, is refused before any storage is touched. CRC32 catches
every change of one character; it is no defence against forgery, which the digest
lookup is.

This module is pure: no I/O, no framework imports.
"""

from __future__ import annotations

import re
import secrets
import zlib
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 30
CHECKSUM_LENGTH = 6
# ASCII only: str.isalnum and \w would also admit other scripts' letters and digits.
_BASE62 = re.compile(r"[0-9A-Za-z]+", re.ASCII)


def scanner_pattern(prefix: str) -> str:
    """The regular expression that secret scanners can use to find our tokens."""
    length = BODY_LENGTH + CHECKSUM_LENGTH

    return rf"\b{re.escape(prefix)}_[0-9A-Za-z]{{{length}}}\b"


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token string whose shape and checksum are correct."""

    prefix: str
    body: str


class MalformedTokenError(ValueError):
    """The string is not a well-formed token; `why` says which check failed."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def generate(prefix: str) -> str:
    """Return a new token string with `prefix`."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))

    return f"{prefix}_{body}{_checksum(prefix, body)}"


def parse(candidate: str, *, prefix: str | None = None) -> ParsedToken:
    """Check the shape and checksum of `candidate`; raise MalformedTokenError if wrong.

    With `prefix`, the token must also carry that prefix.
    """
    found_prefix, separator, rest = candidate.partition("_")
    if not separator or not found_prefix:
        raise MalformedTokenError("no prefix")
    # The checksum is computed over ASCII; any other prefix cannot be ours.
    if not (found_prefix.isascii() and found_prefix.isalnum()):
        raise MalformedTokenError("bad prefix")
    if prefix is not None and found_prefix != prefix:
        raise MalformedTokenError("wrong prefix")
    if len(rest) != BODY_LENGTH + CHECKSUM_LENGTH:
        raise MalformedTokenError("wrong length")
    if _BASE62.fullmatch(rest) is None:
        raise MalformedTokenError("bad character")

    body, checksum = rest[:BODY_LENGTH], rest[BODY_LENGTH:]
    if not secrets.compare_digest(checksum, _checksum(found_prefix, body)):
        raise MalformedTokenError("bad checksum")

    return ParsedToken(prefix=found_prefix, body=body)


def looks_like_token(candidate: str, *, prefix: str | None = None) -> bool:
    """True if `candidate` passes `parse`."""
    try:
        parse(candidate, prefix=prefix)
    except MalformedTokenError:
        return False

    return True


def _checksum(prefix: str, body: str) -> str:
    value = zlib.crc32(f"{prefix}_{body}".encode("ascii"))
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[remainder])

    return "".join(reversed(digits))
