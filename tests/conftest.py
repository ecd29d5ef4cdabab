"""Shared fixtures: a real database (SQLite, and PostgreSQL when
TOKENWARD_TEST_DATABASE_URL is set) and a real tokenward server over HTTP."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Generator, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support import LiveServer, Setup, start_server
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.db import sync_url
from tokenward.migrations import upgrade
from tokenward.models import Base

POSTGRES_ENV = "TOKENWARD_TEST_DATABASE_URL"
TEST_SECRET = "test-instance-secret-" + "x" * 32
START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _postgres_database() -> Generator[str, None, None]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} "
            "(e.g. postgresql://postgres@127.0.0.1/test)"
        )
    name = f"tokenward_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(sync_url(base))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each kind, for the whole session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "tokenward.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    generator = _postgres_database()
    url = next(generator)
    upgrade(url)
    yield url
    generator.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[str]:
    """A new database of each kind with no tables at all, for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    yield from _postgres_database()


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    """The session database, emptied after the test."""
    yield database_url
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                # Table names come from our own metadata, never from input.
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(clean_database: str, tmp_path: os.PathLike[str]) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=clean_database,
        instance_secret=TEST_SECRET,
        log_format="console",
    )


@pytest.fixture
def setup(settings: Settings, clock: FrozenClock) -> Setup:
    """Calls into the services directly, to arrange what a test needs."""
    return Setup(settings, clock)


@pytest.fixture
def server(settings: Settings, clock: FrozenClock) -> Iterator[LiveServer]:
    """tokenward serving its API on a free loopback port."""
    with start_server(settings, clock) as live:
        yield live


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With TOKENWARD_FORBID_SKIPS=1 (as in CI), a skipped test fails the run."""
    if os.environ.get("TOKENWARD_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = len(reporter.stats.get("skipped", []))
    if skipped and exitstatus == 0:
        reporter.write_line(f"{skipped} tests were skipped, which CI forbids", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
