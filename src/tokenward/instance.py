"""The instance secret: the key of every token digest.

It never lives in the database, so a stolen dump alone cannot be used to test guessed
tokens. With the embedded SQLite default it is generated once into the data directory,
readable by its owner only. Several instances sharing PostgreSQL must all be given the
same secret explicitly, so start-up refuses PostgreSQL without one.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

from tokenward.config import Settings
from tokenward.errors import ConfigurationError

MINIMUM_LENGTH = 32
SECRET_FILE_NAME = "instance-secret"  # noqa: S105 - a file name, not a secret


class InstanceSecret:
    """Key bytes whose repr never shows them."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MINIMUM_LENGTH:
            raise ConfigurationError(
                f"the instance secret must be at least {MINIMUM_LENGTH} bytes long"
            )
        self._key = key

    @property
    def key(self) -> bytes:
        return self._key

    def __repr__(self) -> str:
        return "InstanceSecret('**********')"


def load_instance_secret(settings: Settings) -> InstanceSecret:
    """Return the configured secret, or the generated one for the SQLite default."""
    if settings.instance_secret is not None:
        return InstanceSecret(settings.instance_secret.get_secret_value().encode())
    if settings.instance_secret_file is not None:
        return InstanceSecret(_read_secret_file(settings.instance_secret_file))
    if not settings.uses_sqlite:
        raise ConfigurationError(
            "PostgreSQL needs an explicit instance secret: set "
            "TOKENWARD_INSTANCE_SECRET (or TOKENWARD_INSTANCE_SECRET_FILE) to the same "
            f"value of at least {MINIMUM_LENGTH} characters on every instance"
        )

    return InstanceSecret(_read_or_create(settings.data_dir / SECRET_FILE_NAME))


def _read_secret_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read the instance secret file {path}: {error.strerror}"
        ) from None


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not both write a secret.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_existing(path)

    encoded = base64.urlsafe_b64encode(secrets.token_bytes(48)).rstrip(b"=")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(encoded + b"\n")
        handle.flush()
        os.fsync(handle.fileno())

    return encoded


def _read_existing(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{path} is readable by others (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {path}` and start again"
        )
    key = path.read_bytes().strip()
    if not key:
        raise ConfigurationError(
            f"{path} is empty; remove it to have a new one generated"
        )

    return key
