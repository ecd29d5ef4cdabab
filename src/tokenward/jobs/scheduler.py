"""The scheduler inside `tokenward serve`: two asyncio tasks, started and stopped
with the server's runtime.

One runs the periodic jobs every `jobs_interval_seconds`, the other delivers
notifications every `jobs_delivery_interval_seconds`. Each first waits one
interval: a server that restarts in a loop does not run the jobs in a loop. The
leases keep instances from repeating each other's work; for the periodic jobs, a
minimum gap between runs makes instances on the same schedule take turns. Delivery
has no gap: its claims already keep instances apart, and each one that runs helps
empty the outbox sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Sequence

from tokenward.container import Container
from tokenward.jobs.registry import JOBS, Job
from tokenward.jobs.runner import holder_id, run_jobs
from tokenward.logs import get_logger

log = get_logger(__name__)

# A run of a job is skipped if another instance finished it within this share of
# the interval.
_GAP_SHARE = 0.5


class Scheduler:
    def __init__(self, container: Container) -> None:
        self._container = container
        self.holder = holder_id()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def start(self) -> None:
        """Start both loops in the running event loop."""
        if self._tasks:
            return
        settings = self._container.settings
        schedules = (
            ("periodic", settings.jobs_interval_seconds),
            ("delivery", settings.jobs_delivery_interval_seconds),
        )
        for schedule, interval in schedules:
            jobs = [job for job in JOBS if job.schedule == schedule]
            gap = interval * _GAP_SHARE if schedule == "periodic" else None
            loop = self._loop(jobs, interval, gap)
            self._tasks.append(asyncio.create_task(loop, name=f"jobs-{schedule}"))
        log.info("scheduler_started", holder=self.holder)

    async def stop(self, *, within: float = 10.0) -> None:
        """Stop both loops, letting a round in progress finish for up to `within`
        seconds; a round still running then is cancelled and its lease lapses."""
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        self._stopping.set()
        _, unfinished = await asyncio.wait(tasks, timeout=within)
        for task in unfinished:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("scheduler_stopped", holder=self.holder)

    async def _loop(
        self, jobs: Sequence[Job], interval: float, gap_seconds: float | None
    ) -> None:
        gap = None if gap_seconds is None else dt.timedelta(seconds=gap_seconds)
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
                return
            try:
                await run_jobs(self._container, jobs, self.holder, min_gap=gap)
            except Exception:  # a bug in one round must not end the schedule
                log.exception("job_round_failed", jobs=[job.name for job in jobs])
