"""Failures are one line on stderr with exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from tests.support import Setup


def assert_one_line_error(result_stderr: str, *fragments: str) -> None:
    lines = result_stderr.splitlines()
    assert len(lines) == 1, result_stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result_stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_user_is_one_line(cli: Cli) -> None:
    """Creating a token for a user who does not exist fails in one line, exit 1."""
    result = cli("token", "create", "--user", "ghost", "--label", "jira")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "user 'ghost' not found")


def test_unknown_token_is_one_line(cli: Cli) -> None:
    """Revoking an id that does not exist fails in one line, exit 1."""
    result = cli("token", "revoke", "0123456789abcdef")

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "token '0123456789abcdef' not found")


def test_rule_broken_by_input_is_one_line(cli: Cli, services: Setup) -> None:
    """A domain rule (here: no expiry in the past) is reported in one line, exit 1."""
    services.user("alice")

    result = cli(
        "token", "create", "--user", "alice", "--label", "jira",
        "--expires-at", "2001-01-01T00:00:00Z",
    )  # fmt: skip

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "expires_at must be in the future")


def test_missing_schema_hints_at_upgrade(cli: Cli, tmp_path: Path) -> None:
    """A database without tables names the fix: `tokenward db upgrade`."""
    cli.env["TOKENWARD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"

    result = cli("user", "list")

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "did you run `tokenward db upgrade`?")


def test_unreachable_database_is_one_line(cli: Cli) -> None:
    """A database that refuses connections is one line saying so, exit 1."""
    cli.env["TOKENWARD_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none"

    result = cli("user", "list")

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "cannot connect to the database")


def test_postgresql_without_instance_secret_is_one_line(cli: Cli) -> None:
    """PostgreSQL with no instance secret is refused before any work, in one line."""
    cli.env["TOKENWARD_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none"
    cli.env["TOKENWARD_INSTANCE_SECRET"] = None

    result = cli("token", "list")

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "TOKENWARD_INSTANCE_SECRET")


def test_invalid_setting_is_one_line(cli: Cli) -> None:
    """A setting that fails validation names the variable, in one line."""
    cli.env["TOKENWARD_TOKEN_PREFIX"] = "Not A Prefix"

    result = cli("token", "list")

    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "TOKENWARD_TOKEN_PREFIX")


def test_password_in_database_url_is_never_echoed(cli: Cli) -> None:
    """An unparsable database URL is reported without repeating its password."""
    cli.env["TOKENWARD_DATABASE_URL"] = "postgresql://u:hunter2hunter2@h:port/db"

    result = cli("db", "upgrade")

    assert result.exit_code == 1
    assert "hunter2hunter2" not in result.output
    assert_one_line_error(result.stderr, "TOKENWARD_DATABASE_URL")


def test_usage_errors_exit_2(cli: Cli) -> None:
    """A missing required option is a usage error with exit code 2."""
    result = cli("token", "create", "--label", "jira")

    assert result.exit_code == 2
    assert "--user" in result.stderr
