"""Structured logs for operators (structlog): JSON in production, one line each.

Logs are not the audit trail; they carry ids and event names, never a secret or an
`Authorization` value. uvicorn's and other libraries' records are rendered alike.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.types import Processor

from tokenward.config import Settings


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library through one renderer on stderr."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        # Plain tracebacks: the default (rich) one prints every frame's local
        # variables, and those can hold a token or a database password.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQueryString) for f in access.filters):
        access.addFilter(WithoutQueryString())


class WithoutQueryString(logging.Filter):
    """Drops the query string from uvicorn's access lines: a client may have put a
    token there (the gate refuses it, but the line would still hold it)."""

    # uvicorn logs (client, method, path with query, HTTP version, status).
    _PATH = 2

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > self._PATH:
            path = args[self._PATH]
            if isinstance(path, str) and "?" in path:
                record.args = (
                    *args[: self._PATH],
                    path.split("?", 1)[0],
                    *args[self._PATH + 1 :],
                )

        return True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)

    return logger
