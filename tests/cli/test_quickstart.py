"""`tokenward quickstart` as a newcomer runs it: a real process on a free port."""

from __future__ import annotations

import base64
import os
import queue
import re
import shlex
import subprocess
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import free_port

STARTUP_TIMEOUT = 60.0
SERVING_LINE = "Serving on "
TOKEN_EXPORT = re.compile(r"export TOKENWARD_TOKEN='([^']+)'")
EXPORT = re.compile(r"export (TOKENWARD_\w+)='([^']+)'")
EXPECT = re.compile(r"# .*\(expect (\d{3})\)")
PASSWORD_LINE = re.compile(r"^    password: (\S+)$", re.MULTILINE)


@dataclass
class Quickstart:
    """A running `tokenward quickstart` and what it printed before serving."""

    process: subprocess.Popen[str]
    welcome: str
    base_url: str
    log_file: Path


def quickstart_environment(data_dir: Path, port: int, gate_port: int) -> dict[str, str]:
    """The environment of a newcomer: no TOKENWARD_* but the data dir and ports."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TOKENWARD_")
    }
    env.update(
        TOKENWARD_DATA_DIR=str(data_dir),
        TOKENWARD_PORT=str(port),
        TOKENWARD_GATE_PORT=str(gate_port),
    )

    return env


def read_until_serving(process: subprocess.Popen[str]) -> str:
    """Stdout up to the line announcing the server, or fail after the timeout."""
    assert process.stdout is not None
    stream = process.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"quickstart printed no server line:\n{''.join(seen)}")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"quickstart ended early:\n{''.join(seen)}")
        seen.append(line)
        if line.startswith(SERVING_LINE):
            return "".join(seen)


def wait_until_answering(base_url: str) -> None:
    """Poll the API until it answers, bounded by the start-up timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/api/v1/openapi.json", timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return
    raise AssertionError(f"nothing answered on {base_url}")


@contextmanager
def running_quickstart(tmp_path: Path, data_dir: Path) -> Iterator[Quickstart]:
    port, gate_port, demo_port = free_port(), free_port(), free_port()
    program = Path(sysconfig.get_path("scripts")) / "tokenward"
    log_file = tmp_path / f"quickstart-{port}.log"
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [program, "quickstart", "--demo-port", str(demo_port)],
            cwd=tmp_path,
            env=quickstart_environment(data_dir, port, gate_port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        welcome = read_until_serving(process)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_answering(base_url)
        yield Quickstart(process, welcome, base_url, log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def curl_commands(welcome: str) -> list[tuple[int, list[str]]]:
    """The printed curl commands as argument lists, with the exported variables
    filled in, each with the status its comment says to expect."""
    joined = welcome.replace("\\\n", " ")
    for name, value in EXPORT.findall(welcome):
        joined = joined.replace(f"${name}", value)
    commands = []
    expected = 0
    for raw in joined.splitlines():
        line = raw.strip()
        found = EXPECT.search(line)
        if found:
            expected = int(found.group(1))
        elif line.startswith("curl "):
            commands.append((expected, shlex.split(line)))

    return commands


def replay(command: list[str]) -> httpx.Response:
    """Send the request a printed curl command describes (-X, -H, -d, -u, URL)."""
    method, url, headers, body = "GET", "", {}, None
    arguments = iter(command[1:])
    for argument in arguments:
        if argument == "-X":
            method = next(arguments)
        elif argument == "-H":
            name, _, value = next(arguments).partition(":")
            headers[name.strip()] = value.strip()
        elif argument == "-d":
            body = next(arguments)
        elif argument == "-u":
            user, _, password = next(arguments).partition(":")
            credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {credentials}"
        elif argument.startswith("http"):
            url = argument
    if body is not None and method == "GET":
        method = "POST"

    return httpx.request(method, url, headers=headers, content=body, timeout=10)


def test_first_run_prints_commands_that_work(tmp_path: Path) -> None:
    """The first run prints its secrets once, and every printed curl command gets
    the answer its comment promises: the API creates and lists tokens; through the
    gate a read and a write pass, the read-only token's write and a password login
    are refused."""
    with running_quickstart(tmp_path, tmp_path / "data") as started:
        [token] = TOKEN_EXPORT.findall(started.welcome)
        commands = curl_commands(started.welcome)
        answers = [(expected, replay(command)) for expected, command in commands]
        listed = httpx.get(
            f"{started.base_url}/api/v1/tokens",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    assert len(commands) == 6
    for expected, answer in answers:
        assert answer.status_code == expected, (answer.request.url, answer.text)
    reasons = [answer.headers.get("x-tokenward-reason") for _, answer in answers]
    assert reasons[-2:] == ["read_only_scope", "password_denied"]
    created = answers[0][1].json()
    assert created["token"]["label"] == "my-script"
    labels = {item["label"] for item in listed.json()["items"]}
    assert labels == {"quickstart", "quickstart-read-only", "my-script"}
    assert f"{started.base_url}/api/v1/docs" in started.welcome
    [password] = PASSWORD_LINE.findall(started.welcome)
    logs = started.log_file.read_text()
    assert "server_starting" in logs
    for name, secret in EXPORT.findall(started.welcome):
        assert secret not in logs, name
    assert password not in logs


def test_later_runs_show_no_secret(tmp_path: Path) -> None:
    """A second run says the admin exists, shows no secret, and serves the same data."""
    data_dir = tmp_path / "data"
    with running_quickstart(tmp_path, data_dir) as first:
        [token] = TOKEN_EXPORT.findall(first.welcome)

    with running_quickstart(tmp_path, data_dir) as second:
        answer = httpx.get(
            f"{second.base_url}/api/v1/tokens",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    assert "already set up" in second.welcome
    assert "token create --user admin" in second.welcome
    assert token not in second.welcome
    assert not re.search(r"\btw_[0-9A-Za-z]{36}\b", second.welcome)
    assert PASSWORD_LINE.findall(second.welcome) == []
    assert answer.status_code == 200, answer.text
