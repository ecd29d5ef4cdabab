"""The gate's source of upstream credentials, with `gate_identity = "inject"`.

Implements `tokenward.gate.service.UpstreamCredentials`. Decrypted Authorization
values are cached per username, bounded and least recently used out first, so an
allowed request costs a dictionary lookup; users without a credential are cached
too. Every change announced by `gate.changes` clears the whole cache: in this
process through `Database.on_change`, from other processes through the gate's
change watcher (`GateRuntime.forget_on_change`).

A stored value that does not decrypt (the instance secret changed, or the row was
altered) counts as no credential: the gate refuses, it never passes the tokenward
token on instead.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from tokenward.db import Database
from tokenward.logs import get_logger
from tokenward.upstream.crypto import CredentialCipher, UnreadableError
from tokenward.upstream.schemes import Scheme, authorization
from tokenward.upstream.services import load_credential

log = get_logger(__name__)


class InjectedCredentials:
    """Authorization values to inject, by tokenward username."""

    def __init__(
        self,
        db: Database,
        cipher: CredentialCipher,
        *,
        max_entries: int = 10_000,
        max_age: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._max_entries = max_entries
        self._max_age = max_age
        self._monotonic = monotonic
        # username -> (stored at, Authorization value or None for "has none").
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._generation = 0
        db.on_change(self.clear)

    async def authorization_for(self, username: str) -> str | None:
        """The Authorization value for `username`'s upstream requests, or None if
        they have no usable credential."""
        entry = self._entries.get(username)
        if entry is not None and self._monotonic() - entry[0] <= self._max_age:
            self._entries.move_to_end(username)
            return entry[1]

        generation = self._generation
        value = await self._load(username)
        # A change during the lookup may have removed what was just read.
        if generation == self._generation and self._max_entries > 0:
            self._entries[username] = (self._monotonic(), value)
            self._entries.move_to_end(username)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

        return value

    def clear(self) -> None:
        """Forget every cached value: a credential, user or policy changed."""
        self._generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"InjectedCredentials(cached={len(self._entries)})"

    async def _load(self, username: str) -> str | None:
        async with self._db.read() as session:
            stored = await load_credential(session, username)
        if stored is None:
            return None
        try:
            value = self._cipher.open(
                stored.encrypted_value, user_id=stored.user_id, scheme=stored.scheme
            )
        except UnreadableError:
            log.warning(
                "upstream_credential_unreadable",
                username=username,
                key_current=stored.key_id == self._cipher.key_id,
            )
            return None

        return authorization(Scheme(stored.scheme), value)
