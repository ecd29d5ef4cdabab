"""The audit writer: gate decisions committed in groups (SPEC A3, DESIGN "Audit
durability: group commit").

Each decision is queued with a future. One task takes whatever has gathered, up to
`max_batch`, appends it to the chain in one transaction, commits, and only then
resolves the futures, so a caller that awaits `record` knows its record is durable.
A commit costs about the same for one row as for hundreds, so under load the batch
grows and the cost per decision falls. If the commit fails, every waiting caller
gets AuditUnavailableError and must refuse its request (SPEC G9).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.services import AuditEntry, Origin, append_many
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.errors import TokenwardError
from tokenward.logs import get_logger

log = get_logger(__name__)

# Work done in the same transaction as a batch, such as coalesced usage counters.
BatchHook = Callable[[AsyncSession], Awaitable[None]]


class AuditUnavailableError(TokenwardError):
    """The record could not be made durable; the request must be refused."""


@dataclass(slots=True)
class _Pending:
    entry: AuditEntry
    origin: Origin
    occurred_at: dt.datetime
    done: asyncio.Future[None]


class AuditWriter:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        max_batch: int = 500,
        max_queue: int = 50_000,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self._hooks: list[BatchHook] = []
        self.batches = 0
        self.failures = 0

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def add_batch_hook(self, hook: BatchHook) -> None:
        self._hooks.append(hook)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        """Write everything still queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        # A last batch for the hooks' own pending work (usage counters).
        await self._commit([])

    async def record(self, entry: AuditEntry, origin: Origin) -> None:
        """Queue one record and return once it is durable.

        Raises AuditUnavailableError if it cannot be written, or the queue is full.
        """
        done = self.submit(entry, origin)
        await done

    def submit(self, entry: AuditEntry, origin: Origin) -> asyncio.Future[None]:
        """Queue one record; the future resolves when it is durable."""
        if self._task is None:
            raise AuditUnavailableError("the audit writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Pending(entry, origin, self._clock.now(), done))
        except asyncio.QueueFull:
            raise AuditUnavailableError("the audit queue is full") from None

        return done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as error:  # any failure refuses the whole batch
                self.failures += 1
                log.exception("audit_batch_failed", size=len(batch), error=str(error))
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(
                            AuditUnavailableError("the audit record was not written")
                        )
            else:
                self.batches += 1
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending]) -> None:
        async with self._db.write() as session:
            await append_many(
                session, [(p.entry, p.origin, p.occurred_at) for p in batch]
            )
            for hook in self._hooks:
                await hook(session)
