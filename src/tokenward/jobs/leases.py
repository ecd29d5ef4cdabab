"""Job leases: at most one holder runs a job at a time, across every instance.

A lease is taken with one UPDATE that succeeds only where the lease has lapsed
(`expires_at <= now`), so two instances racing for it cannot both win: on
PostgreSQL the second UPDATE waits for the first to commit and then finds the
condition false; on SQLite write transactions run one at a time. A holder that
crashes loses the lease when it lapses. The same works on both databases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, update

from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.errors import TokenwardError
from tokenward.jobs.models import JobLease
from tokenward.notify.outbox import insert_ignoring_duplicates

_LAPSED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class LeaseLostError(TokenwardError):
    """The lease lapsed and another holder may have taken it: stop the work."""


@dataclass(slots=True)
class Lease:
    """A lease held by `holder`; `renew` extends it between steps of long work."""

    db: Database
    clock: Clock
    name: str
    holder: str
    ttl: dt.timedelta

    async def renew(self) -> None:
        now = self.clock.now()
        async with self.db.write() as session:
            result = await session.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=now + self.ttl)
            )
        if getattr(result, "rowcount", 0) != 1:
            raise LeaseLostError(f"the lease of job {self.name!r} was lost")

    async def release(self, outcome: str, summary: dict[str, Any]) -> None:
        """Give the lease up, recording how the run went."""
        now = self.clock.now()
        async with self.db.write() as session:
            await session.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(
                    holder=None,
                    expires_at=now,
                    last_finished_at=now,
                    last_outcome=outcome,
                    last_summary=summary,
                )
            )


async def acquire(
    db: Database,
    clock: Clock,
    name: str,
    holder: str,
    *,
    ttl: dt.timedelta,
    not_run_since: dt.datetime | None = None,
) -> Lease | None:
    """Take the lease of job `name` for `ttl`, or None if someone holds it.

    With `not_run_since`, a job whose last run finished after that moment is left
    alone too: instances on the same schedule then take turns instead of each
    repeating what another just did.
    """
    now = clock.now()
    async with db.write() as session:
        await session.execute(
            insert_ignoring_duplicates(session, JobLease).values(
                name=name, expires_at=_LAPSED, last_summary={}
            )
        )
        conditions = [JobLease.name == name, JobLease.expires_at <= now]
        if not_run_since is not None:
            conditions.append(
                or_(
                    JobLease.last_finished_at.is_(None),
                    JobLease.last_finished_at <= not_run_since,
                )
            )
        result = await session.execute(
            update(JobLease)
            .where(*conditions)
            .values(holder=holder, expires_at=now + ttl, last_started_at=now)
        )
    if getattr(result, "rowcount", 0) != 1:
        return None

    return Lease(db=db, clock=clock, name=name, holder=holder, ttl=ttl)
