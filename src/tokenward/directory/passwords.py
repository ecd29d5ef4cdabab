"""Local passwords, hashed with argon2id, for the web UI sign-in only.

The gate never checks these: a password KDF costs tens of milliseconds on purpose,
which is right for a person signing in and ruinous for every API call.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tokenward.errors import InvalidInputError

MINIMUM_LENGTH = 12
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MINIMUM_LENGTH:
        raise InvalidInputError(
            f"a password needs at least {MINIMUM_LENGTH} characters", field="password"
        )

    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


@functools.cache
def unmatchable_hash() -> str:
    """A real argon2id hash of a random password nobody knows. Checking a password
    against it when a user has none (or does not exist) costs what a real check
    costs, so the time of an answer does not tell which user names exist."""
    return _hasher.hash(secrets.token_urlsafe(32))
