"""`python -m tokenward.demo [--host H] [--port P]`: serve the demo upstream.

The identity header names come from tokenward's own settings (TOKENWARD_GATE_*),
so the demo reads the same headers the gate sets.
"""

from __future__ import annotations

import argparse

from tokenward.config import load_settings
from tokenward.demo.server import DEFAULT_HOST, DEFAULT_PORT, run_demo
from tokenward.gate.identity import IdentityHeaders


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tokenward.demo",
        description="Serve tokenward's demo upstream, an issue tracker like Jira.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="listen address")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="listen port")
    arguments = parser.parse_args()
    settings = load_settings()
    identity = IdentityHeaders(
        user=settings.gate_user_header,
        groups=settings.gate_groups_header,
        token_id=settings.gate_token_id_header,
        scope=settings.gate_scope_header,
    )
    run_demo(host=arguments.host, port=arguments.port, identity=identity)


if __name__ == "__main__":
    main()
