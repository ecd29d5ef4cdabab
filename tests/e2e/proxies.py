"""Debian's real nginx and Caddy, run with the configurations of docs/deploy.

Each proxy runs as a child process with everything it writes (pid file, logs,
temporary files, Caddy's data) in the test's own directory, on a free loopback
port, and is stopped when the test ends. The configuration is the documented file
itself: nginx's with its placeholders replaced, Caddy's through the environment
variables it names.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
NGINX_CONFIG = DEPLOY / "nginx.conf"
CADDY_CONFIG = DEPLOY / "Caddyfile"
START_SECONDS = 15.0
STOP_SECONDS = 10.0
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")


def binary(name: str) -> str | None:
    """The path of a program, also where PATH leaves out /usr/sbin (nginx)."""
    found = shutil.which(name)
    if found:
        return found
    for directory in ("/usr/sbin", "/sbin", "/usr/bin"):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)

    return None


def render(template: str, values: dict[str, str]) -> str:
    """`template` with each `{{NAME}}` replaced; fails if one is left over."""
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    left = _PLACEHOLDER.findall(template)
    if left:
        raise AssertionError(f"placeholders without a value: {sorted(set(left))}")

    return template


@contextmanager
def run_nginx(workdir: Path, *, gate: str, upstream: str) -> Iterator[str]:
    """nginx with docs/deploy/nginx.conf in front of `upstream`, asking `gate`.

    Yields the base URL clients use.
    """
    program = binary("nginx")
    if program is None:
        raise RuntimeError("nginx is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = render(
        NGINX_CONFIG.read_text(),
        {"LISTEN": f"127.0.0.1:{port}", "TOKENWARD": gate, "UPSTREAM": upstream},
    )
    (workdir / "tokenward.conf").write_text(site)
    temporary = {
        kind: workdir / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    for path in temporary.values():
        path.mkdir(exist_ok=True)
    # Run as root (as in CI), nginx would hand its workers to `nobody`, who cannot
    # enter the test's private directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}worker_processes 1;\n"
        f"pid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} notice;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {workdir / 'access.log'};\n"
        f"    client_body_temp_path {temporary['body']};\n"
        f"    proxy_temp_path {temporary['proxy']};\n"
        f"    fastcgi_temp_path {temporary['fastcgi']};\n"
        f"    uwsgi_temp_path {temporary['uwsgi']};\n"
        f"    scgi_temp_path {temporary['scgi']};\n"
        f"    include {workdir / 'tokenward.conf'};\n"
        "}\n"
    )
    config = workdir / "nginx.conf"
    config.write_text(main)
    command = [program, "-c", str(config), "-p", str(workdir), "-g", "daemon off;"]
    with _running(command, workdir, port, logs=[workdir / "error.log"]):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def run_caddy(workdir: Path, *, gate: str, upstream: str) -> Iterator[str]:
    """Caddy with docs/deploy/Caddyfile in front of `upstream`, asking `gate`.

    Yields the base URL clients use.
    """
    program = binary("caddy")
    if program is None:
        raise RuntimeError("caddy is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # The documented file holds the site; this wrapper only keeps Caddy's admin
    # endpoint off, so that tests running at once do not fight over port 2019.
    config = workdir / "Caddyfile"
    config.write_text(f"{{\n\tadmin off\n}}\n\nimport {CADDY_CONFIG}\n")
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "SITE_ADDRESS": f"http://127.0.0.1:{port}",
        "GATE_ADDRESS": gate,
        "UPSTREAM_ADDRESS": upstream,
    }
    command = [program, "run", "--config", str(config), "--adapter", "caddyfile"]
    with _running(command, workdir, port, environment=environment):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _running(
    command: list[str],
    workdir: Path,
    port: int,
    *,
    environment: dict[str, str] | None = None,
    logs: list[Path] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; it must listen on `port` in time."""
    output = workdir / "output.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(process, command[0], port, [output, *(logs or [])])
        yield process
    finally:
        _stop(process)


def _wait_for_port(
    process: subprocess.Popen[bytes], name: str, port: int, logs: list[Path]
) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}:\n{_read(logs)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} did not listen on {port}:\n{_read(logs)}"
                ) from None
            time.sleep(0.02)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _read(logs: list[Path]) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')}"
        for path in logs
        if path.exists()
    )
