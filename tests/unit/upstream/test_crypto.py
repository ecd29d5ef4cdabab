"""Sealing upstream credentials at rest: AES-256-GCM under a key derived from the
instance secret, bound to the user and scheme (G6)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenward.instance import InstanceSecret
from tokenward.upstream.crypto import (
    NONCE_BYTES,
    CredentialCipher,
    UnreadableError,
    associated_data,
)

SECRET = InstanceSecret(b"s" * 32)
OTHER_SECRET = InstanceSecret(b"t" * 32)
PAT = "NjY2NzY4OTk5OTk5OkFUTUVTVFBBVFZBTFVF"


def hkdf_sha256(key: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with an empty salt, written out here to check the derivation."""
    pseudo_random_key = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()
    output, block = b"", b""
    counter = 1
    while len(output) < length:
        block = hmac.new(
            pseudo_random_key, block + info + bytes([counter]), hashlib.sha256
        ).digest()
        output += block
        counter += 1

    return output[:length]


def test_round_trip() -> None:
    """A sealed value opens to the same text for the same user and scheme."""
    cipher = CredentialCipher(SECRET)

    sealed = cipher.seal(PAT, user_id=7, scheme="bearer")

    assert cipher.open(sealed, user_id=7, scheme="bearer") == PAT


def test_round_trip_keeps_any_unicode_password() -> None:
    """A basic value with non-ASCII characters survives sealing unchanged."""
    cipher = CredentialCipher(SECRET)
    value = "jdoe:pässwörd with spaces ✓"

    sealed = cipher.seal(value, user_id=1, scheme="basic")

    assert cipher.open(sealed, user_id=1, scheme="basic") == value


def test_the_plaintext_is_not_in_the_sealed_value() -> None:
    """The sealed bytes contain no trace of the credential."""
    sealed = CredentialCipher(SECRET).seal(PAT, user_id=7, scheme="bearer")

    assert PAT.encode() not in sealed
    assert PAT[:8].encode() not in sealed


def test_each_seal_uses_a_fresh_nonce() -> None:
    """Sealing the same value twice gives different bytes and nonces."""
    cipher = CredentialCipher(SECRET)

    first = cipher.seal(PAT, user_id=7, scheme="bearer")
    second = cipher.seal(PAT, user_id=7, scheme="bearer")

    assert first != second
    assert first[:NONCE_BYTES] != second[:NONCE_BYTES]
    # nonce, then the text, then the 16-byte tag.
    assert len(first) == NONCE_BYTES + len(PAT) + 16


@pytest.mark.parametrize("position", [0, NONCE_BYTES, NONCE_BYTES + 3, -1])
def test_a_changed_byte_is_refused(position: int) -> None:
    """Flipping one bit anywhere (nonce, text or tag) makes the value unreadable."""
    cipher = CredentialCipher(SECRET)
    sealed = bytearray(cipher.seal(PAT, user_id=7, scheme="bearer"))
    sealed[position] ^= 0x01

    with pytest.raises(UnreadableError):
        cipher.open(bytes(sealed), user_id=7, scheme="bearer")


def test_a_truncated_value_is_refused() -> None:
    """A value cut short, even below the nonce's length, is unreadable."""
    cipher = CredentialCipher(SECRET)
    sealed = cipher.seal(PAT, user_id=7, scheme="bearer")

    for length in (0, 5, NONCE_BYTES, len(sealed) - 1):
        with pytest.raises(UnreadableError):
            cipher.open(sealed[:length], user_id=7, scheme="bearer")


def test_another_users_id_is_refused() -> None:
    """A value copied onto another user does not open for them."""
    cipher = CredentialCipher(SECRET)
    sealed = cipher.seal(PAT, user_id=7, scheme="bearer")

    with pytest.raises(UnreadableError):
        cipher.open(sealed, user_id=8, scheme="bearer")


def test_another_scheme_is_refused() -> None:
    """A bearer value relabelled as basic does not open."""
    cipher = CredentialCipher(SECRET)
    sealed = cipher.seal("jdoe:secret", user_id=7, scheme="bearer")

    with pytest.raises(UnreadableError):
        cipher.open(sealed, user_id=7, scheme="basic")


def test_another_instance_secret_is_refused() -> None:
    """A value sealed under one instance secret does not open under another."""
    sealed = CredentialCipher(SECRET).seal(PAT, user_id=7, scheme="bearer")

    with pytest.raises(UnreadableError):
        CredentialCipher(OTHER_SECRET).open(sealed, user_id=7, scheme="bearer")


def test_key_derivation_is_hkdf_sha256_with_a_fixed_label() -> None:
    """The key is HKDF-SHA256 of the instance secret under the fixed label, so a
    value sealed by hand with that key opens, and the derivation never drifts."""
    key = hkdf_sha256(b"s" * 32, b"tokenward upstream-credential encryption v1", 32)
    nonce = b"\x01" * NONCE_BYTES
    sealed = nonce + AESGCM(key).encrypt(
        nonce, PAT.encode(), associated_data(7, "bearer")
    )

    assert CredentialCipher(SECRET).open(sealed, user_id=7, scheme="bearer") == PAT


def test_key_id_is_stable_and_names_the_secret() -> None:
    """The key id is a fixed function of the instance secret, the same on every
    instance and every start, and differs for another secret."""
    expected = hkdf_sha256(b"s" * 32, b"tokenward upstream-credential key id v1", 8)

    assert CredentialCipher(SECRET).key_id == expected.hex() == "d7255bec14ea6ab3"
    assert CredentialCipher(SECRET).key_id == CredentialCipher(SECRET).key_id
    assert CredentialCipher(OTHER_SECRET).key_id != CredentialCipher(SECRET).key_id


def test_repr_shows_no_key() -> None:
    """The cipher's repr names its key id only."""
    cipher = CredentialCipher(SECRET)

    assert repr(cipher) == f"CredentialCipher(key_id={cipher.key_id!r})"
