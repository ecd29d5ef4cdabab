"""Benchmark: forward auth with a valid cached token against a bare ASGI endpoint.

Both run on one uvicorn server (one worker, pinned to CPU 1), so they are measured
under identical conditions; wrk, pinned to CPU 0, alternates between the two. Each
audit mode gets a server of its own: `durable` (the default: every allowed check
waits until its audit record is committed) and `lossy` (it does not wait). The
figure to report is the median of the per-round ratios of requests per second.

    .venv/bin/python bench/forward_auth.py [--database sqlite|postgresql]
        [--modes durable lossy] [--rounds 5] [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tokenward.audit.services import Origin
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.migrations import upgrade
from tokenward.policies.permissions import Actor
from tokenward.tokens.specs import TokenSpec

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-instance-secret-" + "b" * 32
CHECK_PATH = "/auth/nginx"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prepare(settings: Settings) -> str:
    """Migrate, create an admin and return one of their tokens."""
    upgrade(settings.resolved_database_url)

    async def work() -> str:
        container = Container(settings)
        try:
            await container.bootstrap.create_admin(Origin(), username="bench")
            issued = await container.tokens.create(
                Actor.operator("bench"),
                Origin(),
                TokenSpec(label="bench"),
                owner="bench",
            )
            return issued.secret
        finally:
            await container.close()

    return asyncio.run(work())


def _wrk(url: str, seconds: int, headers: dict[str, str], connections: int) -> float:
    """Requests per second wrk reached; any non-2xx answer fails the benchmark."""
    command = ["taskset", "-c", "0", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw failed answers:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")

    return float(match.group(1))


@contextmanager
def _server(environment: dict[str, str]) -> Iterator[str]:
    """bench.app under uvicorn on CPU 1; yields its base URL."""
    port = _free_port()
    command = ["taskset", "-c", "1", sys.executable, "-m", "uvicorn", "bench.app:app"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    command += ["--loop", "uvloop", "--http", "httptools"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=environment, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _measure(
    base: str, token: str, arguments: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """Alternating rounds: requests per second of /bare and of forward auth."""
    check = {
        "Authorization": f"Bearer {token}",
        "X-Original-Method": "GET",
        "X-Original-URI": "/rest/api/2/issue/BENCH-1",
    }
    if httpx.get(base + CHECK_PATH, headers=check).status_code != 200:
        sys.exit("the benchmark token is not allowed; see the server's log")
    connections, seconds = arguments.connections, arguments.seconds
    _wrk(base + CHECK_PATH, 3, check, connections)  # warm up
    bare_rates, gated_rates = [], []
    for _ in range(arguments.rounds):
        bare = _wrk(base + "/bare", seconds, {}, connections)
        gated = _wrk(base + CHECK_PATH, seconds, check, connections)
        bare_rates.append(bare)
        gated_rates.append(gated)
        print(
            f"  bare {bare:9.0f} req/s   forward auth {gated:9.0f} req/s   "
            f"ratio {gated / bare:.2f}"
        )

    return bare_rates, gated_rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1/tokenward_bench",
    )
    parser.add_argument(
        "--modes", nargs="+", choices=["durable", "lossy"], default=["durable", "lossy"]
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install -y wrk util-linux")

    data_dir = Path(tempfile.mkdtemp(prefix="tokenward-bench-"))
    environment = dict(os.environ, TOKENWARD_DATA_DIR=str(data_dir))
    environment["TOKENWARD_INSTANCE_SECRET"] = SECRET
    environment["TOKENWARD_LOG_LEVEL"] = "warning"
    if arguments.database == "postgresql":
        _recreate_postgres_database(arguments.postgres_url)
        environment["TOKENWARD_DATABASE_URL"] = arguments.postgres_url
    settings = Settings(
        data_dir=data_dir,
        instance_secret=SECRET,
        database_url=environment.get("TOKENWARD_DATABASE_URL"),
    )
    try:
        token = _prepare(settings)
        summary = []
        for mode in arguments.modes:
            print(f"{arguments.database}, audit {mode}:")
            with _server({**environment, "TOKENWARD_AUDIT_DURABILITY": mode}) as base:
                bare, gated = _measure(base, token, arguments)
            ratios = [g / b for g, b in zip(gated, bare, strict=True)]
            summary.append(
                f"{arguments.database}, audit {mode}, {arguments.connections} "
                f"connections: median ratio {statistics.median(ratios):.2f} "
                f"(min {min(ratios):.2f}, max {max(ratios):.2f}); median req/s "
                f"bare {statistics.median(bare):.0f}, "
                f"forward auth {statistics.median(gated):.0f}"
            )
        print("\n" + "\n".join(summary))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not become ready")


def _recreate_postgres_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = target.database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
