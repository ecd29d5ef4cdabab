"""Hearing about changes made elsewhere (SPEC S2): other instances, or the CLI.

Two ways, both on: a poll of the change counter every few hundred milliseconds to
seconds (the bound if anything is lost), and on PostgreSQL a LISTEN connection
that hears each committed change at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tokenward.db import Database
from tokenward.gate import changes
from tokenward.logs import get_logger

log = get_logger(__name__)


class ChangeWatcher:
    def __init__(
        self, db: Database, on_change: Callable[[], None], *, poll_seconds: float
    ) -> None:
        self._db = db
        self._on_change = on_change
        self._poll_seconds = poll_seconds
        self._seen: int | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._poll(), name="change-poll"))
        if not self._db.is_sqlite:
            self._tasks.append(
                asyncio.create_task(self._listen(), name="change-listen")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def check(self) -> None:
        """Read the counter once; a new value means a change we may have missed."""
        async with self._db.read() as session:
            value = await changes.current(session)
        if self._seen is not None and value != self._seen:
            self._on_change()
        self._seen = value

    async def _poll(self) -> None:
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as error:  # the gate refuses meanwhile
                log.warning("change_poll_failed", error=str(error))
            await asyncio.sleep(self._poll_seconds)

    async def _listen(self) -> None:
        url = make_url(self._db.url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {changes.CHANNEL}")
                    # Anything may have changed while we were not listening.
                    self._on_change()
                    async for _ in connection.notifies():
                        self._on_change()
            except (psycopg.Error, OSError) as error:  # the poll covers the gap
                log.warning("change_listen_failed", error=str(error))
            await asyncio.sleep(self._poll_seconds)
