"""Token usage (last used, from where, how often), coalesced in memory and written
once per interval by the gate's runtime: one UPDATE per token per flush, never one
per request."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.notify.producers import AddressUse, addresses_seen
from tokenward.tokens.models import Token

RECENT_ADDRESSES = 5


@dataclass(slots=True)
class _Usage:
    count: int = 0
    last_used_at: dt.datetime | None = None
    # Most recent first, distinct.
    addresses: list[str] = field(default_factory=list)


class UsageRecorder:
    def __init__(
        self,
        *,
        flush_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending: dict[str, _Usage] = {}
        # Uses written by the transaction in progress; handed back if it fails.
        self._taken: dict[str, _Usage] = {}
        self.flush_interval = flush_interval
        self._monotonic = monotonic
        self._last_flush = monotonic()

    def note(self, token_id: str, address: str | None, when: dt.datetime) -> None:
        usage = self._pending.setdefault(token_id, _Usage())
        usage.count += 1
        usage.last_used_at = when
        if address is not None:
            usage.addresses = _merge([address], usage.addresses)

    async def flush(self, session: AsyncSession, *, force: bool = False) -> None:
        """Write what gathered, if the interval has passed (or `force`).

        The caller owns the transaction and must call `settle` once it has
        committed or failed.
        """
        due = self._monotonic() - self._last_flush >= self.flush_interval
        if not self._pending or not (due or force):
            return
        pending, self._pending = self._pending, {}
        self._taken = pending
        self._last_flush = self._monotonic()

        stored = await session.execute(
            select(Token.id, Token.last_used_from).where(Token.id.in_(list(pending)))
        )
        # Addresses new to a token may call for an alert (SPEC P8), if enabled.
        seen: list[AddressUse] = []
        for token_id, last_used_from in stored:
            usage = pending[token_id]
            addresses = _merge(usage.addresses, list(last_used_from or []))
            seen.append(
                AddressUse(
                    token_id, usage.last_used_at, usage.addresses, last_used_from or []
                )
            )
            await session.execute(
                update(Token)
                .where(Token.id == token_id)
                .values(
                    use_count=Token.use_count + usage.count,
                    last_used_at=usage.last_used_at,
                    last_used_from=addresses,
                )
            )
        await addresses_seen(session, seen)

    def settle(self, durable: bool) -> None:
        """The transaction of the last `flush` committed (`durable`) or failed; the
        uses of a failed one are kept, to be written with the next."""
        taken, self._taken = self._taken, {}
        if durable:
            return
        for token_id, older in taken.items():
            newer = self._pending.get(token_id)
            if newer is None:
                self._pending[token_id] = older
                continue
            newer.count += older.count
            newer.addresses = _merge(newer.addresses, older.addresses)


def _merge(newer: list[str], older: list[str]) -> list[str]:
    """Distinct addresses, most recent first, at most RECENT_ADDRESSES of them."""
    return list(dict.fromkeys([*newer, *older]))[:RECENT_ADDRESSES]
