"""Encrypting upstream credentials at rest (SPEC G6).

AES-256-GCM under a key derived from the instance secret with HKDF-SHA256 and a
fixed label. Deriving it means there is no second secret to distribute: whatever
instance can check tokens can decrypt credentials, and a database dump alone can do
neither. The label keeps this key apart from the token digests' use of the secret.

A sealed value is `nonce (12 bytes) || ciphertext || tag (16 bytes)`. Each nonce is
random: with one credential per user, a repeat of 96 random bits is out of reach.
The associated data binds a value to its user id and scheme, so a row copied onto
another user, or a bearer value relabelled as basic, fails to decrypt instead of
authenticating someone as someone else.

TODO: re-encrypt stored credentials under a new instance secret; a command given
the old secret would do it. Until then a new secret means users save them again
(docs/credential-injection.md, "Changing the instance secret").
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tokenward.instance import InstanceSecret

# The version of this whole recipe (derivation, cipher, layout, associated data),
# stored with each value so a later recipe can tell old values apart.
KEY_VERSION = 1
NONCE_BYTES = 12
_KEY_LABEL = b"tokenward upstream-credential encryption v1"
_KEY_ID_LABEL = b"tokenward upstream-credential key id v1"
_AAD_LABEL = b"tokenward upstream-credential v1"


class UnreadableError(Exception):
    """A sealed value that does not open: another key, other associated data, or
    altered bytes. Which one is deliberately not told apart."""


def _derive(secret: InstanceSecret, label: bytes, length: int) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=label).derive(
        secret.key
    )


def associated_data(user_id: int, scheme: str) -> bytes:
    """What a sealed value is bound to besides the key: its user and scheme."""
    return b"\x00".join((_AAD_LABEL, str(user_id).encode(), scheme.encode()))


class CredentialCipher:
    """Seals and opens credential values; its repr never shows the key."""

    __slots__ = ("_aead", "key_id")

    def __init__(self, secret: InstanceSecret) -> None:
        self._aead = AESGCM(_derive(secret, _KEY_LABEL, 32))
        # Names the key without revealing it, so a value sealed under another
        # instance secret is recognised before any attempt to open it.
        self.key_id = _derive(secret, _KEY_ID_LABEL, 8).hex()

    def seal(self, plaintext: str, *, user_id: int, scheme: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, plaintext.encode(), associated_data(user_id, scheme)
        )

        return nonce + sealed

    def open(self, sealed: bytes, *, user_id: int, scheme: str) -> str:
        """The plaintext of `sealed`; UnreadableError if it does not authenticate."""
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        if len(nonce) != NONCE_BYTES:
            raise UnreadableError
        try:
            plaintext = self._aead.decrypt(
                nonce, body, associated_data(user_id, scheme)
            )
        except InvalidTag:
            raise UnreadableError from None

        return plaintext.decode()

    def __repr__(self) -> str:
        return f"CredentialCipher(key_id={self.key_id!r})"
