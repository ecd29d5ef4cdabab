"""`tokenward demo-upstream`: the demo API to put behind the reverse proxy."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenward.cli.runner import settings_or_fail
from tokenward.demo.server import DEFAULT_HOST, DEFAULT_PORT, identity_from, run_demo


def demo_upstream(
    host: Annotated[str, typer.Option(help="Listen on this address.")] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Listen on this port.")
    ] = DEFAULT_PORT,
) -> None:
    """Serve the demo upstream, a small issue tracker shaped like Jira's REST API.

    It believes tokenward's identity headers (their names come from the same
    settings), so keep it where only tokenward can reach it: on loopback.
    """
    run_demo(host=host, port=port, identity=identity_from(settings_or_fail()))
