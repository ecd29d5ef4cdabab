"""The gate's in-process cache of token snapshots, keyed by digest (DESIGN, "The
hot path").

Bounded, least recently used out first. Unknown digests are cached too, in a
separate and smaller space, so a client spraying well-formed random tokens costs
one lookup each and cannot push real tokens out. Entries are never extended by a
hit, and a token's expiry is checked by the decision on every request, so a cached
entry can never outlive `expires_at`. Any change announced by `gate.changes`
clears everything: revocations are rare, correctness is not negotiable.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tokenward.gate.decision import TokenSnapshot


@dataclass(frozen=True, slots=True)
class _Entry:
    snapshot: TokenSnapshot | None
    stored_at: float


class Missing:
    """The cache has no answer for this digest."""


MISSING = Missing()


class TokenCache:
    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        max_negative: int = 10_000,
        max_age: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._positive: OrderedDict[bytes, _Entry] = OrderedDict()
        self._negative: OrderedDict[bytes, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._max_negative = max_negative
        self._max_age = max_age
        self._monotonic = monotonic
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, digest: bytes) -> TokenSnapshot | Missing | None:
        """The snapshot, None for a digest known to be unknown, or MISSING."""
        for space in (self._positive, self._negative):
            entry = space.get(digest)
            if entry is None:
                continue
            if self._monotonic() - entry.stored_at > self._max_age:
                del space[digest]
                break
            space.move_to_end(digest)
            self.hits += 1
            return entry.snapshot
        self.misses += 1

        return MISSING

    def put(
        self, digest: bytes, snapshot: TokenSnapshot | None, generation: int
    ) -> None:
        """Store a lookup's result, unless a change happened while it ran.

        `generation` is the value read before the lookup started; if it moved, the
        result may predate a revocation and is dropped.
        """
        if generation != self.generation:
            return
        space, bound = (
            (self._positive, self._max_entries)
            if snapshot is not None
            else (self._negative, self._max_negative)
        )
        space[digest] = _Entry(snapshot, self._monotonic())
        space.move_to_end(digest)
        while len(space) > bound:
            space.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._positive.clear()
        self._negative.clear()

    def __len__(self) -> int:
        return len(self._positive) + len(self._negative)
