"""Helpers for tests: a live server in a thread and direct calls into the services."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import structlog
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tokenward.audit.models import AuditRecord
from tokenward.audit.services import Origin
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.directory.models import User
from tokenward.logs import configure_logging
from tokenward.policies.permissions import Actor, Permission
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.digest import token_digest
from tokenward.tokens.format import generate, parse
from tokenward.tokens.models import Token
from tokenward.tokens.specs import IssuedToken, TokenSpec, new_token_id
from tokenward.web.app import create_app
from tokenward.web.listeners import Listeners

T = TypeVar("T")
OPERATOR = Actor.operator("test")
ORIGIN = Origin(request_id="test")


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port free right now and never handed out before in this run.

    The probe socket is closed before the port is used, so the kernel may offer
    the same port to the next probe: two listeners of one test would then share
    it. Ports already given are skipped for that reason.
    """
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass
class LiveServer:
    url: str
    container: Container

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers=headers, timeout=10, **kwargs
        )

    def accepts(self, token: str) -> bool:
        """Whether the API lets `token` in: True on 200 from /me, False on 401."""
        with self.client(token) as api:
            answer = api.get("/me")
        if answer.status_code not in (200, 401):
            raise AssertionError(f"/me answered {answer.status_code}: {answer.text}")

        return answer.status_code == 200


@contextmanager
def start_server(
    settings: Settings, clock: FrozenClock, *, own_logging: bool = False
) -> Iterator[LiveServer]:
    """Serve the API in a thread. With `own_logging`, uvicorn leaves the logging set
    up by `tokenward.logs.configure_logging` alone, as `tokenward serve` does."""
    container = Container(settings, clock=clock)
    port = free_port()
    logging_options: dict[str, Any] = (
        {"log_config": None, "log_level": settings.log_level}
        if own_logging
        else {"log_level": "warning"}
    )
    config = uvicorn.Config(
        create_app(container),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        # As `tokenward serve`: forwarding headers are the gate's to judge, not
        # uvicorn's, or tests of client addresses could pass for the wrong reason.
        proxy_headers=False,
        **logging_options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", container=container)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Setup:
    """Arranges state through the real services, each call in its own event loop."""

    def __init__(self, settings: Settings, clock: FrozenClock) -> None:
        self.settings = settings
        self.clock = clock

    def run(self, work: Callable[[Container], Coroutine[Any, Any, T]]) -> T:
        async def main() -> T:
            container = Container(self.settings, clock=self.clock)
            try:
                return await work(container)
            finally:
                await container.close()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        # A loop already runs in this thread (Playwright's sync API keeps one):
        # the work gets a thread and a loop of its own.
        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, main()).result()

    def admin(self, username: str = "admin") -> str:
        """Bootstrap an administrator and return a token of theirs."""
        self.run(lambda c: c.bootstrap.create_admin(ORIGIN, username=username))
        return self.token(username, label="admin")

    def user(self, username: str, *, groups: tuple[str, ...] = ()) -> str:
        """Create a user (and missing groups) and return a token of theirs."""

        async def work(container: Container) -> None:
            await container.directory.create_user(OPERATOR, ORIGIN, username=username)
            existing = {
                group.name for group in await container.directory.list_groups(OPERATOR)
            }
            for group in groups:
                if group not in existing:
                    await container.directory.create_group(OPERATOR, ORIGIN, name=group)
                await container.directory.add_member(OPERATOR, ORIGIN, group, username)

        self.run(work)
        return self.token(username, label=f"{username}-setup")

    def password(
        self,
        username: str,
        password: str = "correct horse battery",  # noqa: S107 - a test's own
    ) -> str:
        """Give `username` a local password for the web UI; returns it."""
        self.run(
            lambda c: c.directory.set_password(OPERATOR, ORIGIN, username, password)
        )
        return password

    def token(self, owner: str, **spec: Any) -> str:
        issued = self.issue(owner, **spec)
        return issued.secret

    def issue(self, owner: str, **spec: Any) -> IssuedToken:
        spec.setdefault("label", "setup")
        return self.run(
            lambda c: c.tokens.create(OPERATOR, ORIGIN, TokenSpec(**spec), owner=owner)
        )

    def many_tokens(
        self, owners: list[str], count: int, *, label: str = "bulk {:04}"
    ) -> list[str]:
        """`count` real tokens (digest under the instance secret, 90-day expiry),
        labelled `label` with their number and dealt out to `owners` in turn, in
        one transaction: creating thousands through the service, one audited
        transaction each, would take minutes. Returns their secrets in order."""

        async def work(container: Container) -> list[str]:
            now = self.clock.now()
            key = container.instance_secret.key
            secrets: list[str] = []
            async with container.db.write() as session:
                users = {
                    user.username: user
                    for user in await session.scalars(
                        select(User).where(User.username.in_(owners))
                    )
                }
                for number in range(count):
                    secret = generate(self.settings.token_prefix)
                    secrets.append(secret)
                    session.add(
                        Token(
                            id=new_token_id(),
                            digest=token_digest(key, secret),
                            owner=users[owners[number % len(owners)]],
                            label=label.format(number),
                            tier=str(Tier.MANAGER),
                            created_at=now,
                            expires_at=now + dt.timedelta(days=90),
                            scope=str(Scope.READ_WRITE),
                            allowed_networks=[],
                            header_restrictions={},
                            use_count=0,
                            last_used_from=[],
                        )
                    )
            return secrets

        return self.run(work)

    def grant(
        self, permission: Permission, *, groups: list[str], everyone: bool = False
    ) -> None:
        self.run(
            lambda c: c.permissions.set(
                OPERATOR, ORIGIN, permission, everyone=everyone, groups=groups
            )
        )

    def audit_trail(self) -> list[AuditRecord]:
        """Every audit record, in chain order."""

        async def work(container: Container) -> list[AuditRecord]:
            async with container.db.read() as session:
                records = await session.scalars(
                    select(AuditRecord).order_by(AuditRecord.seq)
                )

                return list(records)

        return self.run(work)


# Loggers that uvicorn and SQLAlchemy configure for themselves; `capture_logs`
# changes them and puts them back afterwards.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy.engine")


@contextmanager
def capture_logs(settings: Settings) -> Iterator[io.StringIO]:
    """Collect every log line written meanwhile, as `tokenward serve` would write it.

    Logging is set up by `tokenward.logs.configure_logging` with its output sent to
    the buffer yielded. SQLAlchemy's statement log, parameters included, is switched
    on too, so whatever reaches the database also reaches the buffer.
    """
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved_libraries = {
        name: (list(logger.handlers), logger.propagate, logger.level)
        for name in _LIBRARY_LOGGERS
        for logger in [logging.getLogger(name)]
    }
    saved_structlog = structlog.get_config()
    buffer = io.StringIO()
    configure_logging(settings)
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(buffer)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.handlers[:], root.level = saved_root
        for name, (handlers, propagate, level) in saved_libraries.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)
        structlog.configure(**saved_structlog)


def stored_bytes(settings: Settings) -> bytes:
    """Everything the database holds: the SQLite file with its -wal and -shm files,
    or a plain `pg_dump` of the PostgreSQL database."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        files = [database, *(Path(f"{database}{end}") for end in ("-wal", "-shm"))]

        return b"".join(path.read_bytes() for path in files if path.exists())
    pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dumped = subprocess.run(
        [pg_dump, "--no-owner", "--dbname", libpq_url],
        capture_output=True,
        check=True,
        timeout=60,
    )

    return dumped.stdout


def token_fragments(name: str, secret: str) -> dict[str, str]:
    """What would betray the token `secret` if found anywhere, named after `name`:
    the whole token, the part after its prefix, its random body, and the token in
    hexadecimal and base64 (as a binary column or an encoded header would hold it)."""
    after_prefix = secret.partition("_")[2]

    return {
        f"{name} (whole token)": secret,
        f"{name} (after the prefix)": after_prefix,
        f"{name} (body)": parse(secret).body,
        f"{name} (hexadecimal)": secret.encode().hex(),
        f"{name} (base64)": base64.b64encode(secret.encode()).decode(),
    }


def find_leaks(
    forbidden: Mapping[str, str], places: Mapping[str, bytes | str]
) -> list[str]:
    """Each place where a forbidden string occurs, as "<string name> in <place>"."""
    found = []
    for place, content in places.items():
        haystack = content if isinstance(content, bytes) else content.encode()
        for name, value in forbidden.items():
            if value.encode() in haystack or value.lower().encode() in haystack:
                found.append(f"{name} in {place}")

    return found


@contextmanager
def serve_asgi(app: Any, **options: Any) -> Iterator[str]:
    """Serve any ASGI app (a test upstream, say) on a free loopback port in a
    thread; yields its base URL. `options` go to uvicorn.Config."""
    port = free_port()
    options.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test upstream did not start")
        time.sleep(0.01)
    scheme = "https" if options.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class LiveProxy:
    """tokenward with both listeners: the reverse proxy and its own API."""

    url: str  # the reverse proxy listener
    api_url: str  # tokenward's own listener (API, forward auth, operations)
    container: Container
    listeners: Listeners


@contextmanager
def start_proxy(
    settings: Settings, clock: FrozenClock, upstream_url: str, **overrides: Any
) -> Iterator[LiveProxy]:
    """Serve tokenward as `tokenward serve` does with an upstream: the API and the
    reverse proxy listeners in one thread and event loop, the proxy in front of
    `upstream_url`. `overrides` replace settings."""
    settings = settings.model_copy(
        update={
            "gate_upstream_url": upstream_url,
            "host": "127.0.0.1",
            "port": free_port(),
            "gate_port": free_port(),
            **overrides,
        }
    )
    container = Container(settings, clock=clock)
    listeners = Listeners(container, access_log=False)
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(listeners.serve())
        except BaseException as error:  # noqa: BLE001 - reported by the waiter
            failures.append(error)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not listeners.started:
        if failures or time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the proxy listeners did not start: {failures}")
        time.sleep(0.01)
    try:
        yield LiveProxy(
            url=f"http://127.0.0.1:{settings.gate_port}",
            api_url=f"http://127.0.0.1:{settings.port}",
            container=container,
            listeners=listeners,
        )
    finally:
        listeners.exit()
        thread.join(timeout=15)
        if failures:
            raise RuntimeError("the proxy listeners failed") from failures[0]
