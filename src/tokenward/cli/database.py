"""`tokenward db …`: apply and inspect schema migrations.

Migrations never run implicitly at start-up (several replicas would race): an
operator runs `tokenward db upgrade`, and `serve` refuses a schema that is behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url

from tokenward import migrations
from tokenward.cli.runner import fail, reported_errors, settings_or_fail
from tokenward.config import Settings

app = typer.Typer(help="Apply and inspect database migrations.")


@contextmanager
def migration_errors() -> Iterator[None]:
    """`reported_errors`, plus Alembic's own (a revision this code does not know)."""
    with reported_errors():
        try:
            yield
        except CommandError as error:
            fail(f"migration failed: {error}")


def describe_database(settings: Settings) -> str:
    """Where the data lives, in words that never include a password."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite at {url.database}"

    return url.render_as_string(hide_password=True)


def schema_revision(settings: Settings) -> str | None:
    """The revision the database is at; None when it has no schema (or no file) yet."""
    url = make_url(settings.resolved_database_url)
    # Connecting would create an empty file; a missing one simply has no schema.
    sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        return None
    with migration_errors():
        return migrations.current_revision(settings.resolved_database_url)


def upgrade_schema(settings: Settings) -> str | None:
    """Apply every pending migration; return the revision now current."""
    with migration_errors():
        migrations.upgrade(settings.resolved_database_url)

    return schema_revision(settings)


def require_current_schema(settings: Settings) -> None:
    """Exit with a clear line unless the database schema is at this code's head."""
    current, head = schema_revision(settings), migrations.head_revision()
    if current is None:
        fail(
            f"{describe_database(settings)} has no tokenward schema; "
            "run `tokenward db upgrade` first"
        )
    if current != head:
        fail(
            f"the database schema is at {current} but this tokenward needs {head}; "
            "run `tokenward db upgrade`"
        )


@app.command()
def upgrade() -> None:
    """Apply every pending migration to the configured database."""
    settings = settings_or_fail()
    revision = upgrade_schema(settings)
    typer.echo(f"{describe_database(settings)} is at revision {revision} (head)")


@app.command()
def current(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 unless the schema is up to date.")
    ] = False,
) -> None:
    """Show the schema revision of the database and the one this code expects."""
    settings = settings_or_fail()
    revision, head = schema_revision(settings), migrations.head_revision()
    typer.echo(f"database: {describe_database(settings)}")
    typer.echo(f"current:  {revision or '(no schema)'}")
    typer.echo(f"head:     {head}")
    if revision == head:
        typer.echo("the schema is up to date")
        return
    typer.echo("run `tokenward db upgrade` to bring it up to date")
    if check:
        raise typer.Exit(1)
