"""`tokenward serve`: the REST API (and, later, the gate and the UI) under uvicorn."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from tokenward.cli.database import require_current_schema
from tokenward.cli.runner import reported_errors, settings_or_fail
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.logs import configure_logging, get_logger
from tokenward.web.listeners import serve_listeners


def serve_app(settings: Settings, *, access_log: bool) -> None:
    """Serve until interrupted (SIGINT or SIGTERM end it gracefully).

    The schema must be current: serving an older one would fail request by request.
    """
    require_current_schema(settings)
    configure_logging(settings)
    with reported_errors():
        container = Container(settings)
    get_logger("tokenward.cli").info(
        "server_starting",
        host=settings.host,
        port=settings.port,
        proxy_port=settings.gate_port if settings.gate_upstream_url else None,
        database="sqlite" if settings.uses_sqlite else "postgresql",
    )
    with _stop_signals_exit_zero(), reported_errors():
        # The API listener, and the reverse proxy's when an upstream is set; the
        # options uvicorn gets (log handlers, proxy headers, graceful shutdown)
        # are in `web.listeners`.
        asyncio.run(serve_listeners(container, access_log=access_log))


@contextmanager
def _stop_signals_exit_zero() -> Iterator[None]:
    """Make a stop that was asked for (SIGTERM, SIGINT) and carried out exit with 0.

    While the listeners serve, `web.listeners` handles these signals itself (a
    graceful stop, then a normal return). The handlers installed here cover the
    moments before and after: a signal then ends the process with a plain exit 0,
    which supervisors read as a clean stop, rather than "killed by SIGTERM".
    """
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in stop_signals}
    for number in stop_signals:
        signal.signal(number, _exit_zero)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _exit_zero(_number: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen on this address [TOKENWARD_HOST].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Listen on this port [TOKENWARD_PORT]."),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            help=(
                "Also log uvicorn's line per HTTP request. Off by default: every "
                "gate decision has its own JSON line already, and this one costs "
                "throughput."
            )
        ),
    ] = False,
) -> None:
    """Serve the REST API under /api/v1, and the reverse proxy on the gate port
    when an upstream is set, until interrupted."""
    settings = settings_or_fail()
    overrides = {"host": host, "port": port}
    settings = settings.model_copy(
        update={name: value for name, value in overrides.items() if value is not None}
    )
    serve_app(settings, access_log=access_log)
