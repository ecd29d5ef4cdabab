"""A small demo upstream API shipped with tokenward: an issue tracker in Jira's
REST shape, for the quick start and the tests to put behind the reverse proxy.

Run it with `python -m tokenward.demo --port 8090`. It is a demonstration: data
lives in memory and it trusts tokenward's identity headers, so it must only be
reachable through tokenward.
"""

from __future__ import annotations

from tokenward.demo.app import create_demo_app
from tokenward.demo.server import run_demo

__all__ = ["create_demo_app", "run_demo"]
