"""Job leases: taken by one holder, lapsing after their time, renewed between
batches, and recording how the last run went."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support import Setup
from tokenward.clock import FrozenClock
from tokenward.container import Container
from tokenward.jobs.leases import LeaseLostError, acquire
from tokenward.jobs.runner import lease_states

TTL = dt.timedelta(minutes=10)


def test_a_held_lease_is_refused_until_released_or_lapsed(
    setup: Setup, clock: FrozenClock
) -> None:
    """While A holds the lease B cannot take it; after A releases it B can; a
    lease never released lapses after its time."""

    async def work(container: Container) -> list[bool]:
        db, c = container.db, container.clock
        a = await acquire(db, c, "job", "a", ttl=TTL)
        refused = await acquire(db, c, "job", "b", ttl=TTL)
        assert a is not None
        await a.release("ok", {"done": 1})
        b = await acquire(db, c, "job", "b", ttl=TTL)
        held_by_b = await acquire(db, c, "job", "a", ttl=TTL)
        clock.advance(TTL)
        lapsed = await acquire(db, c, "job", "a", ttl=TTL)
        return [refused is None, b is not None, held_by_b is None, lapsed is not None]

    assert setup.run(work) == [True, True, True, True]


def test_renewing_a_lost_lease_stops_the_work(setup: Setup, clock: FrozenClock) -> None:
    """A holder whose lease lapsed and was taken over learns it at its next renewal."""

    async def work(container: Container) -> None:
        first = await acquire(container.db, container.clock, "job", "a", ttl=TTL)
        assert first is not None
        clock.advance(TTL)
        assert await acquire(container.db, container.clock, "job", "b", ttl=TTL)
        with pytest.raises(LeaseLostError):
            await first.renew()

    setup.run(work)


def test_a_job_run_recently_elsewhere_is_left_alone(
    setup: Setup, clock: FrozenClock
) -> None:
    """With a minimum gap, a job another instance finished within it is skipped;
    once the gap has passed it runs again; the outcome is stored."""

    async def work(container: Container) -> list[bool]:
        db, c = container.db, container.clock
        lease = await acquire(db, c, "job", "a", ttl=TTL)
        assert lease is not None
        await lease.release("ok", {"sent": 3})
        gap = dt.timedelta(minutes=2)
        soon = await acquire(db, c, "job", "b", ttl=TTL, not_run_since=c.now() - gap)
        clock.advance(gap)
        later = await acquire(db, c, "job", "b", ttl=TTL, not_run_since=c.now() - gap)
        state = (await lease_states(container))["job"]
        assert (state.holder, state.last_outcome, state.last_summary) == (
            "b",
            "ok",
            {"sent": 3},
        )
        return [soon is None, later is not None]

    assert setup.run(work) == [True, True]
