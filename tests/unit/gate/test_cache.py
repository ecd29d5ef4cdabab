"""The token cache: bounded, a separate negative space, no stale puts, max age."""

from __future__ import annotations

from tokenward.gate.cache import MISSING, TokenCache
from tokenward.gate.decision import TokenSnapshot


class FakeMonotonic:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def snapshot(token_id: str) -> TokenSnapshot:
    return TokenSnapshot(
        token_id=token_id,
        owner="alice",
        owner_active=True,
        owner_may_use=True,
        owner_groups=(),
        scope="read-write",
        expires_at=None,
        revoked=False,
    )


def digest(number: int) -> bytes:
    return number.to_bytes(32, "big")


def cache(
    *, max_entries: int = 100, max_negative: int = 100, max_age: float = 300.0
) -> tuple[TokenCache, FakeMonotonic]:
    clock = FakeMonotonic()
    tokens = TokenCache(
        max_entries=max_entries,
        max_negative=max_negative,
        max_age=max_age,
        monotonic=clock,
    )

    return tokens, clock


def test_miss_then_hit() -> None:
    """An unknown digest is MISSING; after a put it is answered from the cache."""
    tokens, _ = cache()

    assert tokens.get(digest(1)) is MISSING
    tokens.put(digest(1), snapshot("a"), tokens.generation)

    assert tokens.get(digest(1)) == snapshot("a")
    assert (tokens.hits, tokens.misses) == (1, 1)


def test_negative_entries() -> None:
    """A digest known not to exist is answered None, not MISSING."""
    tokens, _ = cache()

    tokens.put(digest(1), None, tokens.generation)

    assert tokens.get(digest(1)) is None
    assert len(tokens) == 1


def test_positive_space_is_bounded_least_recently_used_out() -> None:
    """Past its bound, the least recently used token is dropped first."""
    tokens, _ = cache(max_entries=3)
    for number in range(3):
        tokens.put(digest(number), snapshot(str(number)), tokens.generation)
    tokens.get(digest(0))  # 0 is now the most recently used

    tokens.put(digest(3), snapshot("3"), tokens.generation)

    assert tokens.get(digest(1)) is MISSING
    assert tokens.get(digest(0)) == snapshot("0")
    assert tokens.get(digest(3)) == snapshot("3")
    assert len(tokens) == 3


def test_unknown_digests_cannot_push_tokens_out() -> None:
    """A flood of unknown digests fills only the negative space, which is bounded."""
    tokens, _ = cache(max_entries=10, max_negative=5)
    tokens.put(digest(0), snapshot("real"), tokens.generation)

    for number in range(1, 1001):
        tokens.put(digest(number), None, tokens.generation)

    assert tokens.get(digest(0)) == snapshot("real")
    assert len(tokens) == 1 + 5
    assert tokens.get(digest(1000)) is None
    assert tokens.get(digest(1)) is MISSING


def test_put_after_a_change_is_dropped() -> None:
    """A lookup that began before a change must not fill the cache after it."""
    tokens, _ = cache()
    started = tokens.generation

    tokens.clear()  # e.g. the token was revoked while the lookup ran
    tokens.put(digest(1), snapshot("stale"), started)
    tokens.put(digest(2), None, started)

    assert tokens.get(digest(1)) is MISSING
    assert tokens.get(digest(2)) is MISSING
    tokens.put(digest(1), snapshot("fresh"), tokens.generation)
    assert tokens.get(digest(1)) == snapshot("fresh")


def test_clear_forgets_everything_and_moves_the_generation() -> None:
    """A change empties both spaces and starts a new generation."""
    tokens, _ = cache()
    tokens.put(digest(1), snapshot("a"), tokens.generation)
    tokens.put(digest(2), None, tokens.generation)
    before = tokens.generation

    tokens.clear()

    assert tokens.generation == before + 1
    assert len(tokens) == 0
    assert tokens.get(digest(1)) is MISSING
    assert tokens.get(digest(2)) is MISSING


def test_entries_expire_after_max_age_and_hits_do_not_extend_them() -> None:
    """An entry older than max_age is gone, however often it was read meanwhile."""
    tokens, clock = cache(max_age=10.0)
    tokens.put(digest(1), snapshot("a"), tokens.generation)
    tokens.put(digest(2), None, tokens.generation)

    for _ in range(5):
        clock.now += 2.0
        assert tokens.get(digest(1)) == snapshot("a")
    clock.now += 0.5

    assert tokens.get(digest(1)) is MISSING
    assert tokens.get(digest(2)) is MISSING
    assert len(tokens) == 0


def test_put_again_restarts_the_age() -> None:
    """A fresh lookup's put starts the entry's age over."""
    tokens, clock = cache(max_age=10.0)
    tokens.put(digest(1), snapshot("a"), tokens.generation)
    clock.now += 8.0
    tokens.put(digest(1), snapshot("b"), tokens.generation)
    clock.now += 8.0

    assert tokens.get(digest(1)) == snapshot("b")
