"""The keyed digest under which a token is stored and found (SPEC T2).

HMAC-SHA256 under the instance secret: fast enough for every request (a few
microseconds, unlike a password hash), and useless to whoever holds only the database.
Pure: the caller supplies the key.
"""

from __future__ import annotations

import hashlib
import hmac

DIGEST_SIZE = 32


def token_digest(key: bytes, token: str) -> bytes:
    """The 32-byte digest of the whole token string under `key`."""
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()
