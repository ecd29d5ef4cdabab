"""Fixtures for the command line: the `tokenward` app invoked in-process against the
real database of each kind, configured only through TOKENWARD_* variables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from typer.testing import CliRunner, Result

from tests.support import Setup
from tokenward.cli.main import app
from tokenward.clock import FrozenClock
from tokenward.config import Settings


class Cli:
    """Runs `tokenward ARGS…` in-process with a fixed environment.

    Every run must end by exiting (0, 1 or 2): an exception escaping the app would be
    a traceback for the user, so it fails the test here.
    """

    def __init__(self, env: Mapping[str, str | None]) -> None:
        self.env = dict(env)

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), env=self.env, input=stdin)
        if result.exception is not None and not isinstance(
            result.exception, SystemExit
        ):
            raise AssertionError(
                f"tokenward {' '.join(args)} raised {result.exception!r}"
            ) from result.exception

        return result


def environment_of(settings: Settings) -> dict[str, str | None]:
    """The TOKENWARD_* variables that make `load_settings()` equal `settings`."""
    assert settings.database_url is not None
    assert settings.instance_secret is not None

    return {
        "TOKENWARD_DATABASE_URL": settings.database_url.get_secret_value(),
        "TOKENWARD_INSTANCE_SECRET": settings.instance_secret.get_secret_value(),
        "TOKENWARD_DATA_DIR": str(settings.data_dir),
        "TOKENWARD_CONFIG": None,
    }


@pytest.fixture
def cli(settings: Settings) -> Cli:
    """`tokenward` on the test database (SQLite and PostgreSQL)."""
    return Cli(environment_of(settings))


@pytest.fixture
def services(settings: Settings) -> Setup:
    """Direct calls into the services, on the wall clock's time as the CLI is."""
    return Setup(settings, FrozenClock(dt.datetime.now(dt.UTC)))
