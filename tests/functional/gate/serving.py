"""Helpers for the gate's operations tests: `tokenward serve` as a real process, a
forward-auth check over HTTP, metrics as numbers, and the audit chain re-checked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port
from tokenward.audit.chain import CHAINED_FIELDS, GENESIS_HASH, link
from tokenward.audit.models import AuditRecord
from tokenward.config import Settings

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
TOKENWARD = Path(sys.executable).parent / "tokenward"


@dataclass
class ServeProcess:
    """A `tokenward serve` process and where its standard error goes."""

    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    def log_lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8", errors="replace").splitlines()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig` and return the exit status, waiting a bounded time."""
        self.process.send_signal(sig)

        return self.process.wait(timeout=STOP_TIMEOUT)


def serve_environment(settings: Settings, port: int) -> dict[str, str]:
    """The environment that makes `tokenward serve` use `settings` on `port`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TOKENWARD_")
    }
    assert settings.instance_secret is not None
    environment.update(
        TOKENWARD_DATA_DIR=str(settings.data_dir),
        TOKENWARD_DATABASE_URL=settings.resolved_database_url,
        TOKENWARD_INSTANCE_SECRET=settings.instance_secret.get_secret_value(),
        TOKENWARD_HOST="127.0.0.1",
        TOKENWARD_PORT=str(port),
        TOKENWARD_LOG_FORMAT="json",
        TOKENWARD_LOG_LEVEL=settings.log_level,
        TOKENWARD_LOG_ALLOWED_DECISIONS=str(settings.log_allowed_decisions).lower(),
        TOKENWARD_SHUTDOWN_TIMEOUT_SECONDS=str(settings.shutdown_timeout_seconds),
        TOKENWARD_SQLITE_BUSY_TIMEOUT_MS=str(settings.sqlite_busy_timeout_ms),
    )

    return environment


@contextmanager
def serve_process(settings: Settings, work_dir: Path) -> Iterator[ServeProcess]:
    """Run `tokenward serve` with `settings` until the block ends (then kill it)."""
    port = free_port()
    stderr = work_dir / f"serve-{port}.log"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [str(TOKENWARD), "serve"],
            env=serve_environment(settings, port),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    served = ServeProcess(process, f"http://127.0.0.1:{port}", stderr)
    try:
        _wait_until_live(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def _wait_until_live(served: ServeProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(
                "tokenward serve exited at start:\n" + "\n".join(served.log_lines())
            )
        try:
            if httpx.get(f"{served.url}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"tokenward serve did not answer within {START_TIMEOUT} s")


# Where each face is asked, and the headers that carry the original request.
FACES = {
    "forward": ("/auth/forward", "X-Forwarded-Method", "X-Forwarded-Uri"),
    "nginx": ("/auth/nginx", "X-Original-Method", "X-Original-URI"),
}


def check(
    base_url: str,
    token: str | None,
    *,
    face: str = "forward",
    method: str = "GET",
    uri: str = "/rest/api/2/myself",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """Ask a forward-auth face whether `method uri` with `token` may pass.

    The default face, Traefik's and Caddy's, answers with the status it means; the
    nginx face answers only 2xx, 401 and 403, as `auth_request` requires.
    """
    path, method_header, uri_header = FACES[face]
    sent = {method_header: method, uri_header: uri, **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"

    return httpx.get(f"{base_url}{path}", headers=sent, timeout=timeout)


def tampered(token: str) -> str:
    """`token` with its last character changed: its checksum no longer matches."""
    last = "y" if token.endswith("x") else "x"

    return token[:-1] + last


def metric(text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The value of one sample of a Prometheus text page (0 if it is absent)."""
    wanted = dict(labels or {})
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(
                sample.labels.get(key) == value for key, value in wanted.items()
            ):
                return float(sample.value)

    return 0.0


def assert_chained(records: Sequence[AuditRecord]) -> None:
    """Each record follows its predecessor and its stored hash recomputes."""
    previous = GENESIS_HASH
    for record in records:
        assert record.prev_hash == previous, f"record {record.seq} breaks the chain"
        fields = {name: getattr(record, name) for name in CHAINED_FIELDS}
        assert link(previous, fields) == record.hash, f"record {record.seq} was altered"
        previous = record.hash
