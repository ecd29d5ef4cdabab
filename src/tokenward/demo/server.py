"""Serving the demo upstream on a port of its own."""

from __future__ import annotations

import uvicorn

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
