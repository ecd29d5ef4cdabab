"""The migrations build exactly the schema the models describe (S1)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tokenward.db import sync_url
from tokenward.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from tokenward.models import Base


def _drift(database_url: str) -> list[Any]:
    """Alembic's list of differences between the database and the models."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": True},
            )
            differences: list[Any] = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    return differences


def _tables(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_the_models_schema(empty_database_url: str) -> None:
    """After upgrading an empty database to head, nothing differs from the models."""
    upgrade(empty_database_url)

    assert _drift(empty_database_url) == []
    assert current_revision(empty_database_url) == head_revision()


def test_every_model_table_is_migrated(empty_database_url: str) -> None:
    """Each table of the models exists after the upgrade, besides Alembic's own."""
    upgrade(empty_database_url)

    assert _tables(empty_database_url) == set(Base.metadata.tables) | {
        "alembic_version"
    }


def test_empty_database_differs_from_the_models(empty_database_url: str) -> None:
    """The drift check sees a difference when the schema is missing."""
    assert _drift(empty_database_url) != []


def test_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    """Downgrading to base removes every table; upgrading again restores the schema."""
    upgrade(empty_database_url)

    command.downgrade(alembic_config(empty_database_url), "base")

    assert _tables(empty_database_url) <= {"alembic_version"}
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    assert _drift(empty_database_url) == []
