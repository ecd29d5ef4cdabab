"""The listeners of one tokenward process, served together in one event loop.

tokenward's own API, forward auth and operations endpoints listen on `host:port`.
With an upstream configured (`gate_upstream_url`), the reverse proxy listens on
`host:gate_port`: a listener of its own, so no upstream path can ever collide with
one of tokenward's. Both share one Container and one GateRuntime (token cache, audit
writer, metrics). The runtime is started here before either listener takes a
request and stopped after both have finished theirs, so it starts once and the
audit writer is flushed once, last.

SIGINT and SIGTERM stop every listener gracefully (a second SIGINT stops them at
once); uvicorn's own signal handling is switched off because each server would
take the signals from the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from tokenward.container import Container
from tokenward.errors import ConfigurationError
from tokenward.gate.proxy import ProxyApp
from tokenward.jobs.scheduler import Scheduler
from tokenward.logs import get_logger
from tokenward.web.app import TokenwardApp
from tokenward.web.asgi import ASGIApp

log = get_logger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_BACKLOG = 2048  # uvicorn's default


@dataclass(frozen=True, slots=True)
class Listener:
    """One address served, and by which app."""

    name: str  # "api" or "proxy"
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host

        return f"http://{host}:{self.port}"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves the signals to `Listeners`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Listeners:
    """Every listener the settings ask for; `serve` runs them until told to stop."""

    def __init__(self, container: Container, *, access_log: bool = True) -> None:
        settings = container.settings
        self.container = container
        self.app = TokenwardApp(container, close_on_shutdown=False)
        self.runtime = self.app.runtime
        self.proxy = ProxyApp(self.runtime) if settings.gate_upstream_url else None
        # The scheduled jobs (docs/notifications.md), unless cron runs them.
        self.scheduler = Scheduler(container) if settings.jobs_enabled else None
        self.listeners = [Listener("api", settings.host, settings.port)]
        apps: list[ASGIApp] = [self.app]
        if self.proxy is not None:
            self.listeners.append(Listener("proxy", settings.host, settings.gate_port))
            apps.append(self.proxy)
        self._servers = [
            _Server(self._config(listener, app, access_log=access_log))
            for listener, app in zip(self.listeners, apps, strict=True)
        ]

    @property
    def started(self) -> bool:
        """Whether every listener accepts connections."""
        return all(server.started for server in self._servers)

    def exit(self, *, force: bool = False) -> None:
        """Ask every listener to stop; with `force`, without waiting for requests.

        Safe to call from another thread: the servers check the flags on a timer.
        """
        for server in self._servers:
            server.should_exit = True
            if force:
                server.force_exit = True

    async def serve(self) -> None:
        """Bind every listener, serve until `exit` or a signal, then shut down.

        A port that cannot be bound fails the start (ConfigurationError) before any
        listener serves. The container is closed at the end.
        """
        sockets: list[socket.socket] = []
        try:
            for listener in self.listeners:
                sockets.append(bind(listener))
            await self.runtime.start()
            if self.scheduler is not None:
                self.scheduler.start()
            try:
                if self.proxy is not None:
                    await self.proxy.start()
                with self._signals_handled():
                    await self._run(sockets)
            finally:
                if self.proxy is not None:
                    await self.proxy.stop()
                if self.scheduler is not None:
                    await self.scheduler.stop()
                await self.runtime.stop()
        finally:
            for sock in sockets:
                sock.close()
            await self.container.close()

    async def _run(self, sockets: list[socket.socket]) -> None:
        tasks = [
            asyncio.create_task(server.serve(sockets=[sock]), name=f"{listener.name}")
            for server, sock, listener in zip(
                self._servers, sockets, self.listeners, strict=True
            )
        ]
        for listener in self.listeners:
            log.info("listener_started", listener=listener.name, url=listener.url)
        # When one listener stops, for whatever reason, the others stop too.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        self.exit()
        await asyncio.wait(tasks)
        for task in tasks:
            task.result()

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        for number in _SIGNALS:
            loop.add_signal_handler(number, self._on_signal, number)
        try:
            yield
        finally:
            for number in _SIGNALS:
                loop.remove_signal_handler(number)

    def _on_signal(self, number: int) -> None:
        stopping = any(server.should_exit for server in self._servers)
        log.info("shutdown_requested", signal=signal.Signals(number).name)
        self.exit(force=stopping and number == signal.SIGINT)

    def _config(
        self, listener: Listener, app: ASGIApp, *, access_log: bool
    ) -> uvicorn.Config:
        settings = self.container.settings
        options: dict[str, Any] = {}
        if listener.name == "proxy":
            # The proxy is plain ASGI with nothing to start; the upstream's own
            # Date header is passed on rather than doubled.
            options.update(lifespan="off", date_header=False)

        return uvicorn.Config(
            app,
            host=listener.host,
            port=listener.port,
            # Our handlers from configure_logging stay; uvicorn's dictConfig would
            # replace them with its own plain-text ones.
            log_config=None,
            access_log=access_log,
            # The client address is tokenward's to decide from its own trusted-proxy
            # settings (SPEC G5), not uvicorn's from any X-Forwarded-For it is sent.
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
            **options,
        )


def bind(listener: Listener) -> socket.socket:
    """A socket bound to the listener's address and listening, for uvicorn to serve.

    Raises ConfigurationError, naming the listener and the address, if the address
    cannot be bound (in use, not local, no permission).
    """
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    # The protocol must be named: asyncio turns Nagle's algorithm off (TCP_NODELAY)
    # only on sockets whose protocol is IPPROTO_TCP, and with it on, an answer
    # written in two parts waits for the client's delayed ACK, about 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((listener.host, listener.port))
        # Listening here, not in uvicorn: with SO_REUSEADDR two sockets may bind
        # one port, and only listen() finds the clash (the API and the proxy
        # listener configured on the same port, say).
        sock.listen(_BACKLOG)
    except OSError as error:
        sock.close()
        raise ConfigurationError(
            f"the {listener.name} listener cannot listen on "
            f"{listener.host}:{listener.port}: {error.strerror or error}"
        ) from None

    return sock


async def serve_listeners(container: Container, *, access_log: bool = True) -> None:
    """Serve every configured listener of `container` until SIGINT or SIGTERM."""
    await Listeners(container, access_log=access_log).serve()
