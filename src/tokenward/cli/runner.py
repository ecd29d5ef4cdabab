"""Running a command's work against the services, and reporting failure in one line.

Every command is the operator at the command line: whoever can run it holds the
database and the instance secret already, so it acts as `Actor.operator()` with the
audit name "cli". Expected failures (a domain error, bad settings, a database that
cannot be reached or has no schema yet) become one line on stderr and exit code 1;
only a bug in tokenward itself may still show a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from tokenward.audit.services import CLI_ORIGIN
from tokenward.config import Settings, load_settings
from tokenward.container import Container
from tokenward.errors import TokenwardError
from tokenward.policies.permissions import Actor

T = TypeVar("T")

OPERATOR = Actor.operator("cli")
# Audit records of CLI actions carry no request fields: there was no request.
ORIGIN = CLI_ORIGIN
UPGRADE_HINT = "did you run `tokenward db upgrade`?"
INVALID_URL = "TOKENWARD_DATABASE_URL is not a valid database URL"
# SQLSTATE of PostgreSQL's "undefined_table".
_UNDEFINED_TABLE = "42P01"


def fail(message: str) -> NoReturn:
    """Print `message` as one line on stderr and exit with status 1."""
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(1)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the failures an operator can cause or fix into `fail(...)`."""
    try:
        yield
    except TokenwardError as error:
        fail(error.message)
    except NoSuchModuleError:
        fail("TOKENWARD_DATABASE_URL names a database driver tokenward does not have")
    except ArgumentError:
        # The parser's message quotes the whole URL, password included: say less.
        fail(INVALID_URL)
    except DBAPIError as error:
        fail(describe_database_error(error))
    except OSError as error:
        fail(f"{error.strerror or error}{_filename(error)}")


def describe_database_error(error: DBAPIError) -> str:
    """One line naming what the database said, with a hint when the schema is absent.

    Only the driver's own message is used: SQLAlchemy's wording adds the statement and
    its parameters, which have no place on an operator's terminal.
    """
    driver_message = _one_line(str(error.orig)) if error.orig else _one_line(str(error))
    missing_table = (
        getattr(error.orig, "sqlstate", None) == _UNDEFINED_TABLE
        or "no such table" in driver_message
    )
    if missing_table:
        return (
            f"the database has no tokenward schema ({driver_message}); {UPGRADE_HINT}"
        )
    if error.connection_invalidated or "connect" in driver_message.lower():
        return f"cannot connect to the database: {driver_message}"

    return f"the database refused the operation: {driver_message}"


def settings_or_fail() -> Settings:
    """The settings from the environment and TOKENWARD_CONFIG, or exit with why not."""
    with reported_errors():
        settings = load_settings()
    try:
        make_url(settings.resolved_database_url)
    except (ArgumentError, ValueError):
        # Both messages quote the URL, password included: say less.
        fail(INVALID_URL)

    return settings


def run(
    work: Callable[[Container], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run `work` with a fresh Container in its own event loop and close it after.

    Expected failures end the process through `fail`; the value of `work` is returned
    otherwise.
    """
    resolved = settings or settings_or_fail()

    async def main() -> T:
        container = Container(resolved)
        try:
            return await work(container)
        finally:
            await container.close()

    with reported_errors():
        return asyncio.run(main())


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"

    return first.strip()


def _filename(error: OSError) -> str:
    return f": {error.filename}" if error.filename else ""
