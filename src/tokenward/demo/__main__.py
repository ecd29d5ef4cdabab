"""`python -m tokenward.demo [--host H] [--port P]`: serve the demo upstream.

The identity header names come from tokenward's own settings (TOKENWARD_GATE_*),
so the demo reads the same headers the gate sets.
"""

from __future__ import annotations

import argparse

from tokenward.config import load_settings
from tokenward.demo.server import DEFAULT_HOST, DEFAULT_PORT, identity_from, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tokenward.demo",
        description="Serve tokenward's demo upstream, an issue tracker like Jira.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="listen address")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="listen port")
    arguments = parser.parse_args()
    identity = identity_from(load_settings())
    run_demo(host=arguments.host, port=arguments.port, identity=identity)


if __name__ == "__main__":
    main()
