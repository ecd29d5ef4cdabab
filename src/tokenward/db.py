"""Engines, sessions and the declarative base shared by every domain.

SQLite (the embedded default) runs in WAL mode with `synchronous=FULL`, so a commit
survives power loss, and a busy timeout. Transactions that write start with
`BEGIN IMMEDIATE` there: a deferred transaction that reads and then writes fails at
once with SQLITE_BUSY if another connection committed in between, whatever the busy
timeout. PostgreSQL needs neither trick.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from tokenward.clock import as_utc

# The session flag `gate.changes.bump` sets; kept here so storage needs no import
# of the gate.
CHANGED_FLAG = "tokenward_gate_changed"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back as an aware datetime.

    SQLite keeps no zone, so values come back naive; this type makes both databases
    hand the services the same thing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use tokenward.clock")
        utc = value.astimezone(dt.UTC)

        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else as_utc(value)


def async_url(url: str) -> str:
    """Name the async driver for a URL given with a plain or sync scheme."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")

    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same URL with a synchronous driver, for Alembic."""
    parsed = make_url(async_url(url))
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")

    return parsed.render_as_string(hide_password=False)


def prepare_sqlite_directory(url: str) -> None:
    """Create the directory and file of a SQLite database, for its owner only."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    ):
        path = Path(parsed.database)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created here, owner-only, before SQLite creates it with the umask's mode.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Database:
    """The engines of one database and the two kinds of session the services use."""

    def __init__(self, url: str, *, sqlite_busy_timeout_ms: int = 5000) -> None:
        self.url = async_url(url)
        prepare_sqlite_directory(self.url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._busy_timeout_ms = sqlite_busy_timeout_ms
        self._blocking: Engine | None = None
        if self.is_sqlite:
            self._reader = self._sqlite_engine(sqlite_busy_timeout_ms, immediate=False)
            self._writer = self._sqlite_engine(sqlite_busy_timeout_ms, immediate=True)
        else:
            self._reader = create_async_engine(self.url, pool_pre_ping=True)
            self._writer = self._reader
        self._change_hooks: list[Callable[[], None]] = []
        self._read_sessions = async_sessionmaker(self._reader, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._writer, expire_on_commit=False)

    @property
    def engine(self) -> AsyncEngine:
        """The engine for writes (and, on PostgreSQL, for everything)."""
        return self._writer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; it is rolled back, never committed."""
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits when the block ends, or rolls back on error.

        If the transaction flagged a change for the gate (see `gate.changes`), the
        hooks registered with `on_change` run after the commit.
        """
        async with self._write_sessions() as session:
            async with session.begin():
                yield session
            if session.info.pop(CHANGED_FLAG, False):
                for hook in self._change_hooks:
                    hook()

    def on_change(self, hook: Callable[[], None]) -> None:
        """Run `hook` after each committed transaction that changed gate state."""
        self._change_hooks.append(hook)

    def blocking_engine(self) -> Engine:
        """An engine with a blocking driver, for work that runs in a thread of its
        own: the gate's audit writer, which on SQLite would otherwise cross to
        aiosqlite's thread and back for every statement of a batch.

        Its transactions are write transactions (`BEGIN IMMEDIATE` on SQLite); they
        change no gate state, so `on_change` hooks do not hear of them.
        """
        if self._blocking is None:
            url = sync_url(self.url)
            if self.is_sqlite:
                self._blocking = create_engine(
                    url, connect_args={"isolation_level": None}
                )
                _prepare_sqlite(
                    self._blocking, self._busy_timeout_ms, begin="BEGIN IMMEDIATE"
                )
            else:
                self._blocking = create_engine(url, pool_pre_ping=True)

        return self._blocking

    async def dispose(self) -> None:
        await self._reader.dispose()
        if self._writer is not self._reader:
            await self._writer.dispose()
        if self._blocking is not None:
            self._blocking.dispose()

    def _sqlite_engine(self, busy_timeout_ms: int, *, immediate: bool) -> AsyncEngine:
        path = make_url(self.url).database or ""
        # An in-memory database exists per connection; share nothing across a pool.
        pool: dict[str, Any] = (
            {"poolclass": NullPool} if path in ("", ":memory:") else {}
        )
        engine = create_async_engine(
            self.url, connect_args={"isolation_level": None}, **pool
        )
        _prepare_sqlite(
            engine.sync_engine,
            busy_timeout_ms,
            begin="BEGIN IMMEDIATE" if immediate else "BEGIN",
        )

        return engine


def _prepare_sqlite(engine: Engine, busy_timeout_ms: int, *, begin: str) -> None:
    """Durable WAL settings on every new connection, and `begin` to open each
    transaction (the driver's own autocommit handling is off)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
