"""`tokenward user …`, `group …` and `permission …` over the real services."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.support import OPERATOR, Setup
from tokenward.directory.passwords import verify_password
from tokenward.errors import AuthenticationError


def test_user_lifecycle(cli: Cli) -> None:
    """A user created with details is listed and shown with them."""
    created = cli(
        "user",
        "create",
        "alice",
        "--display-name",
        "Alice A",
        "--email",
        "a@example.org",
    )
    assert created.exit_code == 0, created.output

    listed = json.loads(cli("user", "list", "--json").stdout)
    shown = cli("user", "show", "alice")

    assert [user["username"] for user in listed["items"]] == ["alice"]
    assert listed["items"][0]["email"] == "a@example.org"
    assert "Alice A" in shown.stdout


def test_disabling_a_user_stops_their_tokens(cli: Cli, services: Setup) -> None:
    """`user disable` makes the user's tokens fail; `user enable` restores them."""
    secret = services.user("alice")

    disabled = cli("user", "disable", "alice")
    refused = _accepted(services, secret)
    enabled = cli("user", "enable", "alice")

    assert disabled.exit_code == 0, disabled.output
    assert not refused
    assert enabled.exit_code == 0, enabled.output
    assert _accepted(services, secret)


def test_set_password_from_stdin(cli: Cli, services: Setup) -> None:
    """`user set-password --password-stdin` stores the password read from stdin."""
    services.user("alice")

    result = cli(
        "user", "set-password", "alice", "--password-stdin", stdin="a long passphrase\n"
    )

    assert result.exit_code == 0, result.output
    user = services.run(lambda c: c.directory.get_user(OPERATOR, "alice"))
    assert user.password_hash is not None
    assert verify_password(user.password_hash, "a long passphrase")


def test_set_password_rejects_a_short_one(cli: Cli, services: Setup) -> None:
    """A password below the minimum length is refused in one line."""
    services.user("alice")

    result = cli("user", "set-password", "alice", "--password-stdin", stdin="short\n")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: a password needs at least")


def test_groups_and_membership(cli: Cli, services: Setup) -> None:
    """Groups are created, gain and lose members, are listed and deleted."""
    services.user("alice")

    steps = [
        cli("group", "create", "ops", "--description", "Operations"),
        cli("group", "add-member", "ops", "alice"),
    ]
    with_member = json.loads(cli("group", "show", "ops", "--json").stdout)
    steps.append(cli("group", "remove-member", "ops", "alice"))
    without_member = json.loads(cli("group", "list", "--json").stdout)
    steps.append(cli("group", "delete", "ops"))
    missing = cli("group", "show", "ops")

    assert [step.exit_code for step in steps] == [0, 0, 0, 0]
    assert with_member["members"] == ["alice"]
    assert without_member["items"] == [
        {**with_member, "members": []},
    ]
    assert missing.exit_code == 1
    assert missing.stderr == "error: group 'ops' not found\n"


def test_permission_set_and_list(cli: Cli, services: Setup) -> None:
    """`permission set` grants to just the named groups; `permission list` says so."""
    services.user("alice", groups=("managers",))

    result = cli("permission", "set", "manage_tokens", "--group", "managers")
    grants = json.loads(cli("permission", "list", "--json").stdout)["items"]
    table = cli("permission", "list").stdout

    assert result.exit_code == 0, result.output
    manage = next(item for item in grants if item["permission"] == "manage_tokens")
    assert manage == {
        "permission": "manage_tokens",
        "everyone": False,
        "groups": ["managers"],
    }
    assert "group managers" in table


def test_permission_set_needs_exactly_one_choice(cli: Cli) -> None:
    """`permission set` without --everyone, --group or --nobody is a usage error."""
    assert cli("permission", "set", "manage_tokens").exit_code == 2
    assert (
        cli("permission", "set", "manage_tokens", "--everyone", "--nobody").exit_code
        == 2
    )
    assert cli("permission", "set", "no_such_permission", "--nobody").exit_code == 2


def test_administer_cannot_be_taken_from_everyone(cli: Cli) -> None:
    """The service's lock-out guard reaches the CLI as a one-line error."""
    result = cli("permission", "set", "administer", "--nobody")

    assert result.exit_code == 1
    assert "at least one group" in result.stderr


def _accepted(services: Setup, secret: str) -> bool:
    try:
        services.run(lambda c: c.tokens.authenticate(secret))
    except AuthenticationError:
        return False

    return True
