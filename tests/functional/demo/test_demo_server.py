"""Running the demo upstream as its own process: `tokenward demo-upstream` and
`python -m tokenward.demo`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

WAIT_SECONDS = 30.0
TOKENWARD = Path(sys.executable).parent / "tokenward"
COMMANDS = {
    "tokenward demo-upstream": [str(TOKENWARD), "demo-upstream"],
    "python -m tokenward.demo": [sys.executable, "-m", "tokenward.demo"],
}


def answer_from(
    command: Sequence[str],
    path: str,
    *,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> httpx.Response:
    """Start the demo with `command` on a free port, GET `path`, stop it."""
    port = free_port()
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("TOKENWARD_")
    }
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**environment, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                return httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers)
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=WAIT_SECONDS)


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_the_demo_serves_its_seed_issues(command: list[str]) -> None:
    """Started on a port of its own, the demo answers DEMO-1."""
    answer = answer_from(command, "/rest/api/2/issue/DEMO-1")

    assert answer.status_code == 200
    assert answer.json()["key"] == "DEMO-1"


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_the_demo_reads_the_identity_header_names_from_the_settings(
    command: list[str],
) -> None:
    """With TOKENWARD_GATE_USER_HEADER set, the demo reads the caller from it."""
    answer = answer_from(
        command,
        "/rest/api/2/myself",
        headers={"X-Remote-User": "bob", "X-Tokenward-User": "mallory"},
        env={"TOKENWARD_GATE_USER_HEADER": "X-Remote-User"},
    )

    assert answer.status_code == 200
    assert answer.json()["name"] == "bob"
