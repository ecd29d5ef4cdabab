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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.services import AuditEntry, Origin, append_many
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.errors import TokenwardError
from tokenward.logs import get_logger

log = get_logger(__name__)

# Work done in the same transaction as a batch, such as coalesced usage counters.
BatchHook = Callable[[AsyncSession], Awaitable[None]]
# Told, once a batch's transaction has ended, whether it committed.
SettledHook = Callable[[bool], None]


class AuditUnavailableError(TokenwardError):
    """The record could not be made durable; the request must be refused."""


class AuditObserver(Protocol):
    """Told how the writer fares, for metrics."""

    def batch_committed(self, records: int, seconds: float) -> None: ...

    def records_failed(self, records: int) -> None: ...


class _NoObserver:
    def batch_committed(self, records: int, seconds: float) -> None:
        pass

    def records_failed(self, records: int) -> None:
        pass


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
        observer: AuditObserver | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self._hooks: list[BatchHook] = []
        self._settled: list[SettledHook] = []
        self._observer: AuditObserver = observer or _NoObserver()
        self._waiting = 0
        self.batches = 0
        self.failures = 0

    @property
    def queue_depth(self) -> int:
        """Records submitted and not yet durable (or failed): queued or committing."""
        return self._waiting

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def add_batch_hook(
        self, hook: BatchHook, *, settled: SettledHook | None = None
    ) -> None:
        """Run `hook` in each batch's transaction; `settled` then hears whether the
        transaction committed, so that work taken for a failed one is not lost."""
        self._hooks.append(hook)
        if settled is not None:
            self._settled.append(settled)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        """Write everything still queued, then stop.

        Work the hooks hold back for a later batch (usage counters) is theirs to
        flush after this returns.
        """
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def record(self, entry: AuditEntry, origin: Origin) -> None:
        """Queue one record and return once it is durable.

        Raises AuditUnavailableError if it cannot be written, or the queue is full.
        """
        done = self.submit(entry, origin)
        await done

    def submit(self, entry: AuditEntry, origin: Origin) -> asyncio.Future[None]:
        """Queue one record; the future resolves when it is durable."""
        if self._task is None:
            self._observer.records_failed(1)
            raise AuditUnavailableError("the audit writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A refusal is answered without waiting for its record; its failure is
        # counted and logged here, not again by asyncio as "never retrieved".
        done.add_done_callback(_retrieve)
        try:
            self._queue.put_nowait(_Pending(entry, origin, self._clock.now(), done))
        except asyncio.QueueFull:
            self._observer.records_failed(1)
            raise AuditUnavailableError("the audit queue is full") from None
        self._waiting += 1

        return done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = time.perf_counter()
            try:
                await self._commit(batch)
            except Exception as error:  # any failure refuses the whole batch
                self.failures += 1
                self._settle(durable=False)
                self._observer.records_failed(len(batch))
                # A database that is down is an operator's matter, not a bug: one
                # line each, no traceback.
                log.error(  # noqa: TRY400 - the traceback only for what is a bug
                    "audit_batch_failed",
                    size=len(batch),
                    error=str(error),
                    exc_info=not isinstance(error, SQLAlchemyError | OSError),
                )
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(
                            AuditUnavailableError("the audit record was not written")
                        )
            else:
                self.batches += 1
                self._settle(durable=True)
                self._observer.batch_committed(
                    len(batch), time.perf_counter() - started
                )
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_result(None)
            finally:
                self._waiting -= len(batch)
                for _ in batch:
                    self._queue.task_done()

    def _settle(self, *, durable: bool) -> None:
        for settled in self._settled:
            settled(durable)

    async def _commit(self, batch: list[_Pending]) -> None:
        async with self._db.write() as session:
            await append_many(
                session, [(p.entry, p.origin, p.occurred_at) for p in batch]
            )
            for hook in self._hooks:
                await hook(session)


def _retrieve(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
