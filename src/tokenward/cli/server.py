"""`tokenward serve`: the REST API (and, later, the gate and the UI) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from tokenward.cli.database import require_current_schema
from tokenward.cli.runner import reported_errors, settings_or_fail
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.logs import configure_logging, get_logger
from tokenward.web.app import create_app


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
        database="sqlite" if settings.uses_sqlite else "postgresql",
    )
    uvicorn.run(
        create_app(container),
        host=settings.host,
        port=settings.port,
        # Our handlers from configure_logging stay; uvicorn's dictConfig would
        # replace them with its own plain-text ones.
        log_config=None,
        access_log=access_log,
        # The client address is tokenward's to decide from its own trusted-proxy
        # settings (SPEC G5), not uvicorn's from any X-Forwarded-For it is sent.
        proxy_headers=False,
        server_header=False,
    )


def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen on this address [TOKENWARD_HOST].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Listen on this port [TOKENWARD_PORT]."),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per HTTP request.")
    ] = True,
) -> None:
    """Serve the REST API under /api/v1 until interrupted."""
    settings = settings_or_fail()
    overrides = {"host": host, "port": port}
    settings = settings.model_copy(
        update={name: value for name, value in overrides.items() if value is not None}
    )
    serve_app(settings, access_log=access_log)
