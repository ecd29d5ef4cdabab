"""The database stops mid-run (SPEC G9): the gate refuses, then recovers by itself.

A real PostgreSQL is stopped: a throwaway cluster of Debian's postgresql-common,
made for this test on a free port and dropped after it, so the shared test server
is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_SECRET
from tests.functional.gate.serving import assert_chained, check, metric
from tests.functional.ui.browser import WebClient
from tests.support import Setup, free_port, start_server
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.migrations import upgrade

CONFIG_ROOT = Path("/etc/postgresql")
PG_TIMEOUT = 60.0
RECOVERY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster of its own that the test may stop and start."""

    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/tokenward"

    def control(self, action: str) -> None:
        _run(
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            self.version,
            self.name,
            action,
        )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + PG_TIMEOUT
        while not self.is_ready():
            assert time.monotonic() < deadline, f"cluster {self.name} did not start"
            time.sleep(0.1)

    def is_ready(self) -> bool:
        ready = subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
            timeout=PG_TIMEOUT,
        )

        return ready.returncode == 0


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=PG_TIMEOUT)


def _skip_unless_clusters_can_be_made() -> str:
    """The installed PostgreSQL major version, or skip saying what is missing."""
    if shutil.which("pg_createcluster") is None or not CONFIG_ROOT.is_dir():
        pytest.skip(
            "stopping a real database needs Debian's postgresql-common "
            "(pg_createcluster); apt-get install postgresql"
        )
    if os.geteuid() != 0:
        pytest.skip("pg_createcluster makes a cluster only when run as root")
    versions = sorted((path.name for path in CONFIG_ROOT.iterdir()), key=float)
    if not versions:
        pytest.skip(f"no PostgreSQL version is installed under {CONFIG_ROOT}")

    return versions[-1]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A running throwaway cluster with an empty, migrated `tokenward` database."""
    version = _skip_unless_clusters_can_be_made()
    made = Cluster(version, f"twoutage{os.getpid()}", free_port())
    _run(
        "pg_createcluster",
        version,
        made.name,
        "--port",
        str(made.port),
        "--",
        "--auth=trust",
    )
    try:
        made.control("start")
        made.wait_until_ready()
        admin = create_engine(
            made.url.replace("/tokenward", "/postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE tokenward"))
        admin.dispose()
        upgrade(made.url)
        yield made
    finally:
        _run("pg_dropcluster", "--stop", version, made.name)


def _wait_for_listener(cluster: Cluster) -> None:
    """Wait until the gate's LISTEN connection is up: connecting clears the cache
    once, and the test must fill the cache after that."""
    engine = create_engine(cluster.url)
    deadline = time.monotonic() + PG_TIMEOUT
    try:
        while True:
            with engine.connect() as connection:
                listening = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE query ILIKE 'LISTEN %'"
                    )
                )
            if listening:
                return
            assert time.monotonic() < deadline, "the gate never started listening"
            time.sleep(0.05)
    finally:
        engine.dispose()


def test_gate_refuses_while_the_database_is_down_and_recovers(
    cluster: Cluster, tmp_path: Path, clock: FrozenClock
) -> None:
    """While PostgreSQL is stopped, a cached and an unseen token are both refused
    with 503; once it is back, the same requests pass without a restart."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=cluster.url,
        instance_secret=TEST_SECRET,
        log_format="console",
    )
    setup = Setup(settings, clock)
    cached = setup.user("alice")
    unseen = setup.token("alice", label="unseen")
    password = setup.password("alice")

    with start_server(settings, clock) as live, WebClient(live.url) as web:
        _wait_for_listener(cluster)
        web.sign_in("alice", password)
        assert check(live.url, cached).status_code == 200
        assert (
            metric(
                httpx.get(f"{live.url}/metrics").text, "tokenward_gate_cache_entries"
            )
            == 1
        )

        cluster.control("stop")
        refused_cached = check(live.url, cached)
        refused_unseen = check(live.url, unseen)
        ready_while_down = httpx.get(f"{live.url}/readyz", timeout=10)
        live_while_down = httpx.get(f"{live.url}/livez", timeout=10)
        page = httpx.get(f"{live.url}/metrics").text
        ui_while_down = web.get("/tokens")

        cluster.control("start")
        cluster.wait_until_ready()
        recovered = _first_allowed(live.url, cached)
        recovered_unseen = check(live.url, unseen)
        ui_recovered = web.get("/tokens")

    for refused in (refused_cached, refused_unseen):
        assert refused.status_code == 503
        assert refused.headers["x-tokenward-reason"] == "unavailable"
    # The cached token was still in the cache: refused because its record could not
    # be written, not for want of a lookup.
    assert metric(page, "tokenward_gate_cache_entries") == 1
    assert metric(page, "tokenward_audit_failures_total") >= 1
    unavailable = {"outcome": "denied", "reason": "unavailable"}
    assert metric(page, "tokenward_gate_decisions_total", unavailable) == 2
    assert ready_while_down.status_code == 503
    assert any(p.startswith("database") for p in ready_while_down.json()["problems"])
    assert live_while_down.status_code == 200
    assert recovered.status_code == 200
    assert recovered_unseen.status_code == 200
    # The web UI says what is wrong, and the session outlives the outage.
    assert ui_while_down.status_code == 503
    assert "cannot reach its database" in ui_while_down.text
    assert ui_while_down.headers["content-security-policy"]
    assert ui_recovered.status_code == 200
    records = setup.audit_trail()
    assert_chained(records)
    allowed = [
        r for r in records if r.event == "gate_decision" and r.outcome == "allowed"
    ]
    assert len(allowed) >= 3


def _first_allowed(base_url: str, token: str) -> httpx.Response:
    """Ask until the gate allows `token`; while the database comes back, anything
    but a refusal for unavailability fails the test."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while True:
        answer = check(base_url, token)
        if answer.status_code == 200:
            return answer
        assert answer.status_code == 503, f"answered {answer.status_code} meanwhile"
        assert time.monotonic() < deadline, "the gate did not recover by itself"
        time.sleep(0.2)
