"""`tokenward serve` with an upstream: two listeners in one process, sharing one
gate, stopped together by SIGTERM with the audit written."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.functional.gate.proxy_upstream import gate_decisions
from tests.support import Setup, free_port, serve_asgi
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.demo import create_demo_app

TOKENWARD = Path(sys.executable).parent / "tokenward"
WAIT_SECONDS = 30.0


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    api_url: str
    proxy_url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def environment(settings: Settings, **variables: str) -> dict[str, str]:
    """`settings` as the environment of a `tokenward serve` process."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARD_")}
    assert settings.instance_secret is not None
    kept.update(
        TOKENWARD_DATA_DIR=str(settings.data_dir),
        TOKENWARD_DATABASE_URL=settings.resolved_database_url,
        TOKENWARD_INSTANCE_SECRET=settings.instance_secret.get_secret_value(),
        TOKENWARD_HOST="127.0.0.1",
        TOKENWARD_LOG_FORMAT="json",
        **variables,
    )

    return kept


@contextmanager
def serve(settings: Settings, tmp_path: Path, upstream_url: str) -> Iterator[Served]:
    """`tokenward serve` with both listeners, killed at the end if still running."""
    api_port, proxy_port = free_port(), free_port()
    log = tmp_path / f"serve-{api_port}.log"
    variables = {
        "TOKENWARD_PORT": str(api_port),
        "TOKENWARD_GATE_PORT": str(proxy_port),
        "TOKENWARD_GATE_UPSTREAM_URL": upstream_url,
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(TOKENWARD), "serve"],
            env=environment(settings, **variables),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    served = Served(
        process,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{proxy_port}",
        log,
    )
    try:
        _wait_until_answering(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT_SECONDS)


def _wait_until_answering(served: Served) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited at start:\n{served.log_text()}")
        try:
            httpx.get(f"{served.api_url}/livez", timeout=1)
            httpx.get(f"{served.proxy_url}/", timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        return
    raise AssertionError(
        f"serve did not answer on both listeners:\n{served.log_text()}"
    )


@pytest.fixture
def now_setup(settings: Settings) -> Setup:
    """Setup on the real time, for a server process that reads the system clock."""
    return Setup(settings, FrozenClock(dt.datetime.now(dt.UTC)))


def test_serve_runs_both_listeners_and_stops_them_cleanly(
    settings: Settings, now_setup: Setup, tmp_path: Path
) -> None:
    """The proxy listener fronts the upstream, the API listener serves tokenward,
    and SIGTERM stops both with exit 0 and the proxied decision audited."""
    token = now_setup.user("alice")
    bearer = {"Authorization": f"Bearer {token}"}

    with (
        serve_asgi(create_demo_app()) as upstream,
        serve(settings, tmp_path, upstream) as served,
    ):
        myself = httpx.get(f"{served.proxy_url}/rest/api/2/myself", headers=bearer)
        own = httpx.get(f"{served.api_url}/api/v1/me", headers=bearer)
        upstream_livez = httpx.get(f"{served.proxy_url}/livez")
        served.process.send_signal(signal.SIGTERM)
        status = served.process.wait(timeout=WAIT_SECONDS)

    assert myself.status_code == 200
    assert myself.json()["name"] == "alice"
    assert own.json()["username"] == "alice"
    # /livez belongs to tokenward's listener; on the proxy's it is the upstream's.
    assert upstream_livez.status_code == 404
    assert status == 0
    log = served.log_text()
    assert '"listener": "api"' in log
    assert '"listener": "proxy"' in log
    decisions = gate_decisions(now_setup)
    assert [(r.outcome, r.path) for r in decisions] == [
        ("allowed", "/rest/api/2/myself")
    ]


def test_serve_refuses_to_start_when_the_proxy_port_is_taken(
    settings: Settings, tmp_path: Path
) -> None:
    """A listener that cannot bind stops the start with one clear line, exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        variables = {
            "TOKENWARD_PORT": str(free_port()),
            "TOKENWARD_GATE_PORT": str(port),
            "TOKENWARD_GATE_UPSTREAM_URL": "http://127.0.0.1:9",
        }
        result = subprocess.run(
            [str(TOKENWARD), "serve"],
            env=environment(settings, **variables),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS,
            check=False,
        )

    assert result.returncode == 1
    assert f"error: the proxy listener cannot listen on 127.0.0.1:{port}" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "url", ["ftp://upstream.example", "upstream.example:8090", "http://u:p@host/"]
)
def test_serve_refuses_an_upstream_url_it_cannot_use(
    settings: Settings, url: str
) -> None:
    """An upstream URL that is not plain http(s) stops the start, saying why."""
    variables = {
        "TOKENWARD_PORT": str(free_port()),
        "TOKENWARD_GATE_PORT": str(free_port()),
        "TOKENWARD_GATE_UPSTREAM_URL": url,
    }

    result = subprocess.run(
        [str(TOKENWARD), "serve"],
        env=environment(settings, **variables),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )

    assert result.returncode == 1
    assert "error: TOKENWARD_GATE_UPSTREAM_URL" in result.stderr
