"""`tokenward upstream-credential …`: the operator sets, shows, checks and removes
users' upstream credentials, and never sees a value printed (G6)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Cli, environment_of
from tests.functional.upstream.fake_jira import FakeJira, running_jira
from tests.support import Setup
from tokenward.config import Settings


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_jira() as fake:
        yield fake


@pytest.fixture
def upstream_cli(settings: Settings, jira: FakeJira) -> Cli:
    """`tokenward` on the test database, checking credentials against `jira`."""
    return Cli(environment_of(settings) | {"TOKENWARD_GATE_UPSTREAM_URL": jira.url})


def test_set_reads_stdin_and_prints_no_value(
    upstream_cli: Cli, services: Setup, jira: FakeJira
) -> None:
    """`set --value-stdin` checks and stores the value from stdin and prints only
    what may be shown."""
    services.user("alice")
    pat = secrets.token_urlsafe(33)
    jira.accept(f"Bearer {pat}", "alice")

    result = upstream_cli(
        "upstream-credential", "set", "--user", "alice", "--scheme", "bearer",
        "--value-stdin", stdin=pat + "\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert pat not in result.output
    assert "checked as:    alice" in result.stdout
    assert jira.seen == [f"Bearer {pat}"]
    trail = services.audit_trail()
    assert (trail[-1].event, trail[-1].actor) == ("upstream_credential_saved", "cli")


def test_a_refused_value_fails_in_one_line(upstream_cli: Cli, services: Setup) -> None:
    """A value the upstream refuses exits 1 with one line, and nothing is stored."""
    services.user("alice")
    pat = secrets.token_urlsafe(33)

    refused = upstream_cli(
        "upstream-credential", "set", "--user", "alice", "--scheme", "bearer",
        "--value-stdin", stdin=pat + "\n",
    )  # fmt: skip
    shown = upstream_cli("upstream-credential", "show", "--user", "alice")

    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: the upstream answered HTTP 401")
    assert refused.stderr.count("\n") == 1
    assert pat not in refused.output
    assert shown.exit_code == 1
    assert "not found" in shown.stderr


def test_set_without_stdin_or_a_terminal_fails(
    upstream_cli: Cli, services: Setup
) -> None:
    """Without --value-stdin and no terminal to prompt at, set says how to give it."""
    services.user("alice")

    result = upstream_cli(
        "upstream-credential", "set", "--user", "alice", "--scheme", "bearer"
    )

    assert result.exit_code == 1
    assert "--value-stdin" in result.stderr


def test_show_check_and_remove(
    upstream_cli: Cli, services: Setup, jira: FakeJira
) -> None:
    """show prints the metadata (also as JSON), check tries it again, remove
    deletes it."""
    services.user("alice")
    pat = secrets.token_urlsafe(33)
    jira.accept(f"Bearer {pat}", "alice")
    upstream_cli(
        "upstream-credential", "set", "--user", "alice", "--scheme", "bearer",
        "--value-stdin", stdin=pat + "\n",
    )  # fmt: skip

    shown = upstream_cli("upstream-credential", "show", "--user", "alice", "--json")
    checked = upstream_cli("upstream-credential", "check", "--user", "alice")
    removed = upstream_cli("upstream-credential", "remove", "--user", "alice")
    again = upstream_cli("upstream-credential", "show", "--user", "alice")

    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["scheme"] == "bearer"
    assert document["checked_as"] == "alice"
    assert document["key_current"] is True
    assert pat not in shown.output
    assert checked.exit_code == 0, checked.output
    assert jira.seen == [f"Bearer {pat}"] * 2
    assert removed.stdout == "upstream credential of alice removed\n"
    assert again.exit_code == 1
    assert [r.event for r in services.audit_trail()][-3:] == [
        "upstream_credential_saved",
        "upstream_credential_checked",
        "upstream_credential_removed",
    ]
