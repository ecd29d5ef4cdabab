"""Serving the demo upstream on a port of its own."""

from __future__ import annotations

import uvicorn

from tokenward.config import Settings
from tokenward.demo.app import create_demo_app
from tokenward.gate.identity import IdentityHeaders

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090


def run_demo(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    identity: IdentityHeaders | None = None,
    log_level: str = "info",
) -> None:
    """Serve the demo tracker until interrupted (SIGINT or SIGTERM).

    `identity` names the headers it reads the caller from; give it the same names
    as tokenward's `gate_*_header` settings.
    """
    uvicorn.run(
        create_demo_app(identity),
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
    )


def identity_from(settings: Settings) -> IdentityHeaders:
    """The identity header names tokenward's gate sets with these settings."""
    return IdentityHeaders(
        user=settings.gate_user_header,
        groups=settings.gate_groups_header,
        token_id=settings.gate_token_id_header,
        scope=settings.gate_scope_header,
    )
