"""`tokenward db upgrade|current`, and `serve` refusing a schema that is behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tokenward.migrations import head_revision


@pytest.fixture
def fresh(tmp_path: Path) -> Cli:
    """A CLI on the SQLite default in an empty data directory."""
    return Cli(
        {
            "TOKENWARD_DATA_DIR": str(tmp_path / "data"),
            "TOKENWARD_DATABASE_URL": None,
            "TOKENWARD_INSTANCE_SECRET": None,
            "TOKENWARD_CONFIG": None,
        }
    )


def test_current_reports_no_schema_without_creating_a_file(
    fresh: Cli, tmp_path: Path
) -> None:
    """`db current --check` on a new directory says there is no schema and exits 1."""
    result = fresh("db", "current", "--check")

    assert result.exit_code == 1
    assert "(no schema)" in result.stdout
    assert not (tmp_path / "data" / "tokenward.db").exists()


def test_upgrade_brings_the_schema_to_head(fresh: Cli) -> None:
    """`db upgrade` applies every migration; `db current --check` then passes."""
    upgraded = fresh("db", "upgrade")
    current = fresh("db", "current", "--check")
    again = fresh("db", "upgrade")

    assert upgraded.exit_code == 0, upgraded.output
    assert f"at revision {head_revision()}" in upgraded.stdout
    assert current.exit_code == 0, current.output
    assert "up to date" in current.stdout
    assert again.exit_code == 0, again.output


def test_serve_refuses_a_database_without_schema(fresh: Cli) -> None:
    """`serve` will not start on a database that was never upgraded, and says why."""
    result = fresh("serve")

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert "run `tokenward db upgrade` first" in result.stderr
