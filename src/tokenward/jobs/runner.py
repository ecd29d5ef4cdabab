"""Running one job under its lease, for the scheduler and for `tokenward jobs run`."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from tokenward.container import Container
from tokenward.errors import TokenwardError
from tokenward.jobs.leases import LeaseLostError, acquire
from tokenward.jobs.models import JobLease
from tokenward.jobs.registry import Job
from tokenward.logs import get_logger

log = get_logger(__name__)


def holder_id() -> str:
    """A name for this process's lease holder: host, process, and a random part."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class JobRun:
    """What became of one attempt to run a job."""

    name: str
    ran: bool
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def run_job(
    container: Container,
    job: Job,
    holder: str,
    *,
    min_gap: dt.timedelta | None = None,
) -> JobRun:
    """Run `job` if its lease can be taken; `ran` is False if another holder has it
    (or, with `min_gap`, finished it less than `min_gap` ago).

    A failure of the job is logged and returned, not raised: one job's trouble
    must not stop the others.
    """
    clock = container.clock
    ttl = dt.timedelta(seconds=container.settings.jobs_lease_seconds)
    not_run_since = None if min_gap is None else clock.now() - min_gap
    lease = await acquire(
        container.db, clock, job.name, holder, ttl=ttl, not_run_since=not_run_since
    )
    if lease is None:
        log.debug("job_skipped", job=job.name)
        return JobRun(job.name, ran=False)
    log.debug("job_started", job=job.name)
    try:
        summary = await job.run(container, lease)
    except LeaseLostError as error:
        log.error("job_failed", job=job.name, error=error.message)  # noqa: TRY400
        return JobRun(job.name, ran=True, error=error.message)
    except (TokenwardError, SQLAlchemyError, OSError) as error:
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        log.error("job_failed", job=job.name, error=message)  # noqa: TRY400
        await _release_quietly(lease, "failed", {"error": message})
        return JobRun(job.name, ran=True, error=message)
    await lease.release("ok", summary)
    # A run that found nothing to do is routine; at info it would fill the log
    # with a line every few seconds from the delivery loop alone.
    did_something = any(value for value in summary.values() if isinstance(value, int))
    (log.info if did_something else log.debug)("job_finished", job=job.name, **summary)

    return JobRun(job.name, ran=True, summary=summary)


async def run_jobs(
    container: Container,
    jobs: Sequence[Job],
    holder: str,
    *,
    min_gap: dt.timedelta | None = None,
) -> list[JobRun]:
    """Run `jobs` one after the other, each under its own lease."""
    return [await run_job(container, job, holder, min_gap=min_gap) for job in jobs]


async def lease_states(container: Container) -> dict[str, JobLease]:
    """The stored lease of each job that ever ran, by name."""
    async with container.db.read() as session:
        return {lease.name: lease for lease in await session.scalars(select(JobLease))}


async def _release_quietly(lease: Any, outcome: str, summary: dict[str, Any]) -> None:
    try:
        await lease.release(outcome, summary)
    except (SQLAlchemyError, OSError) as error:
        # The lease lapses by itself; the next run takes it then.
        log.warning("job_lease_not_released", job=lease.name, error=str(error))
