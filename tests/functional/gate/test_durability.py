"""Nothing answered is lost (SPEC A3, I5): a record behind a 2xx survives SIGKILL,
and SIGTERM finishes requests in flight and writes everything before exiting 0."""

from __future__ import annotations

import datetime as dt
import secrets
import signal
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.functional.gate.serving import (
    ServeProcess,
    assert_chained,
    check,
    metric,
    serve_process,
)
from tests.support import Setup
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.db import sync_url
from tokenward.tokens.models import Token

WAIT_SECONDS = 30.0


@pytest.fixture
def now_setup(settings: Settings) -> Setup:
    """Setup on the real time, which the server process reads."""
    return Setup(settings, FrozenClock(dt.datetime.now(dt.UTC)))


def test_the_record_of_an_answered_request_survives_sigkill(
    settings: Settings, now_setup: Setup, tmp_path: Path
) -> None:
    """A request answered 2xx has its audit record stored, even when the server is
    killed at once; after a restart the chain still verifies and grows."""
    token = now_setup.user("alice")
    request_id = f"durable-{secrets.token_hex(8)}"

    with serve_process(settings, tmp_path) as served:
        answer = check(served.url, token, headers={"X-Request-ID": request_id})
        served.process.kill()
        served.process.wait(timeout=WAIT_SECONDS)
    assert answer.status_code == 200
    assert served.process.returncode == -signal.SIGKILL

    records = now_setup.audit_trail()
    [record] = [r for r in records if r.request_id == request_id]
    assert (record.event, record.outcome, record.reason) == (
        "gate_decision",
        "allowed",
        "token_valid",
    )
    assert_chained(records)

    with serve_process(settings, tmp_path) as restarted:
        again = check(restarted.url, token, headers={"X-Request-ID": "after-restart"})
        restarted.stop()
    assert again.status_code == 200
    after = now_setup.audit_trail()
    assert after[-1].request_id == "after-restart"
    assert_chained(after)


@contextmanager
def audit_writes_held(settings: Settings) -> Iterator[None]:
    """Hold back every audit write until the block ends: a SQLite write lock, or a
    PostgreSQL lock on the audit table that blocks inserts but not reads."""
    url = settings.resolved_database_url
    if make_url(url).get_backend_name() == "sqlite":
        connection = sqlite3.connect(make_url(url).database or "", timeout=10)
        connection.isolation_level = None
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text("LOCK TABLE audit_records IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def _wait_until_waiting(served: ServeProcess) -> None:
    """Wait until the server holds an audit record it cannot write yet."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        page = httpx.get(f"{served.url}/metrics", timeout=5).text
        if metric(page, "tokenward_audit_queue_depth") >= 1:
            return
        assert time.monotonic() < deadline, "the request never reached the writer"
        time.sleep(0.02)


def _wait_until_refusing_connections(served: ServeProcess) -> None:
    """Wait until the server has closed its listening socket."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            httpx.get(f"{served.url}/livez", timeout=1)
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
            # Refused, or reset from the backlog of the socket being closed.
            return
        assert time.monotonic() < deadline, "the server kept accepting connections"
        time.sleep(0.02)


def test_sigterm_finishes_requests_in_flight_and_flushes_everything(
    settings: Settings, now_setup: Setup, tmp_path: Path
) -> None:
    """On SIGTERM the server stops accepting, answers the request in flight once its
    record is durable, writes the usage counts, and exits 0."""
    token = now_setup.user("alice")
    patient = settings.model_copy(update={"sqlite_busy_timeout_ms": 60_000})

    with (
        serve_process(patient, tmp_path) as served,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        assert check(served.url, token).status_code == 200
        in_flight: Future[httpx.Response]
        with audit_writes_held(settings):
            in_flight = pool.submit(
                check,
                served.url,
                token,
                headers={"X-Request-ID": "in-flight"},
                timeout=WAIT_SECONDS,
            )
            _wait_until_waiting(served)
            served.process.send_signal(signal.SIGTERM)
            _wait_until_refusing_connections(served)
            assert not in_flight.done()
        answer = in_flight.result(timeout=WAIT_SECONDS)
        status = served.process.wait(timeout=WAIT_SECONDS)

    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "in-flight"
    assert status == 0
    records = now_setup.audit_trail()
    assert [r.request_id for r in records if r.request_id == "in-flight"] == [
        "in-flight"
    ]
    assert_chained(records)
    usage = _usage(now_setup)
    assert usage == (2, ["127.0.0.1"])
    logged = "\n".join(served.log_lines())
    assert '"event": "gate_stopped"' in logged


def _usage(setup: Setup) -> tuple[int, list[str]]:
    """Use count and recent addresses of alice's one token."""

    async def read(container: Container) -> tuple[int, list[str]]:
        async with container.db.read() as session:
            row = (
                await session.execute(select(Token.use_count, Token.last_used_from))
            ).one()

        return row[0], list(row[1] or [])

    return setup.run(read)
