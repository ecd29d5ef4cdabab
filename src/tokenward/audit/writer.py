"""The audit writer: gate decisions committed in groups (SPEC A3, DESIGN "Audit
durability: group commit").

Each decision is queued with a future. One task takes whatever has gathered, up to
`max_batch`, appends it to the chain in one transaction, commits, and only then
resolves the futures, so a caller that awaits `record` knows its record is durable.
A commit costs about the same for one row as for hundreds, so under load the batch
grows and the cost per decision falls. If the commit fails, every waiting caller
gets AuditUnavailableError and must refuse its request (SPEC G9).

A batch is written from a thread of the writer's own, through a blocking driver, in
one hand-over: through the async drivers, every statement of a batch would cross
to a driver thread (aiosqlite) and back, and each crossing costs 30-130 µs on this
project's machines (`bench/pieces.py`), more than a row.

Before a batch is closed, the writer lets the event loop run for as long as records
keep arriving (at most `gather_seconds`). Without that, the first request of a
burst would be committed alone and the rest of the burst would wait for that
commit before forming a batch of their own: two commits where one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from tokenward.audit.services import AuditEntry, Origin, append_rows
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.errors import TokenwardError
from tokenward.logs import get_logger

log = get_logger(__name__)

# Rounds of the event loop in which nothing new arrived that close a batch.
_QUIET_ROUNDS = 2


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
        gather_seconds: float = 0.002,
        observer: AuditObserver | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_batch = max_batch
        self._gather_seconds = gather_seconds
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
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

    def start(self) -> None:
        if self._task is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="audit-writer")
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
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

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
            batch = await self._gather()
            started = time.perf_counter()
            try:
                await self._commit(batch)
            except Exception as error:  # any failure refuses the whole batch
                self.failures += 1
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

    async def _gather(self) -> list[_Pending]:
        """The next batch: what is queued, plus what arrives while the loop is busy
        with requests already received."""
        batch = [await self._queue.get()]
        deadline = time.perf_counter() + self._gather_seconds
        quiet = 0
        while len(batch) < self._max_batch:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                quiet = 0
            elif quiet < _QUIET_ROUNDS and time.perf_counter() < deadline:
                # A request read in this round reaches the queue in the next one.
                quiet += 1
                await asyncio.sleep(0)
            else:
                break

        return batch

    async def _commit(self, batch: list[_Pending]) -> None:
        items = [(p.entry, p.origin, p.occurred_at) for p in batch]
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, items)

    def _write(self, items: list[tuple[AuditEntry, Origin, dt.datetime]]) -> None:
        """In the writer's thread: one transaction, committed on return."""
        with self._db.blocking_engine().begin() as connection:
            append_rows(connection, items)


def _retrieve(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
