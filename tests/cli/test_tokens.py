"""`tokenward token create|list|show|revoke|rotate` against a real database."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.conftest import Cli
from tests.support import Setup
from tokenward.errors import AuthenticationError
from tokenward.policies.permissions import Actor

SECRET_LINE = re.compile(r"^    (tw_[0-9A-Za-z]{36})$", re.MULTILINE)
TOKEN_ID_LINE = re.compile(r"^token id:\s+([0-9a-f]{16})$", re.MULTILINE)


def issue(cli: Cli, *args: str) -> tuple[str, str]:
    """Create a token through the CLI; return its id and its secret."""
    result = cli("token", "create", *args)
    assert result.exit_code == 0, result.output
    [secret] = SECRET_LINE.findall(result.stdout)
    [token_id] = TOKEN_ID_LINE.findall(result.stdout)

    return token_id, secret


def authenticate(services: Setup, secret: str) -> Actor:
    return services.run(lambda c: c.tokens.authenticate(secret))


def accepted(services: Setup, secret: str) -> bool:
    try:
        authenticate(services, secret)
    except AuthenticationError:
        return False

    return True


@pytest.fixture
def alice(services: Setup) -> str:
    services.user("alice")

    return "alice"


def test_create_prints_a_working_secret_once(
    cli: Cli, services: Setup, alice: str
) -> None:
    """`token create` prints the secret exactly once; it authenticates as the owner."""
    result = cli("token", "create", "--user", alice, "--label", "jira")

    assert result.exit_code == 0, result.output
    [secret] = SECRET_LINE.findall(result.stdout)
    assert result.stdout.count(secret) == 1
    assert authenticate(services, secret).name == alice


def test_create_applies_every_attribute(cli: Cli, alice: str) -> None:
    """Scope, networks, headers, rate limit and expiry given as options are stored."""
    result = cli(
        "token", "create", "--user", alice, "--label", "ci",
        "--scope", "read-only", "--expires-at", "2030-01-31T00:00:00Z",
        "--network", "10.0.0.0/8", "--network", "2001:db8::/32",
        "--header", "X-Team=platform", "--rate-limit", "60", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    token = json.loads(result.stdout)["token"]
    assert token["scope"] == "read-only"
    assert token["expires_at"].startswith("2030-01-31T00:00:00")
    assert token["allowed_networks"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert token["header_restrictions"] == {"x-team": "platform"}
    assert token["rate_limit_per_minute"] == 60


def test_list_shows_tokens_in_a_table_and_as_json(cli: Cli, alice: str) -> None:
    """`token list` shows tokens by id, owner and label; --json gives the API shape."""
    token_id, _ = issue(cli, "--user", alice, "--label", "confluence")

    table = cli("token", "list", "--user", alice)
    listed = cli("token", "list", "--json")

    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "OWNER", "LABEL"]
    assert f"{token_id}  {alice}" in table.stdout
    page = json.loads(listed.stdout)
    assert {item["label"] for item in page["items"]} >= {"confluence"}
    assert page["total"] == len(page["items"])


def test_revoke_stops_the_token_and_records_the_reason(
    cli: Cli, services: Setup, alice: str
) -> None:
    """`token revoke ID --reason` makes the secret fail at once and keeps the reason."""
    token_id, secret = issue(cli, "--user", alice, "--label", "jira")

    result = cli("token", "revoke", token_id, "--reason", "leaked in a log")

    assert result.exit_code == 0, result.output
    assert not accepted(services, secret)
    shown = json.loads(cli("token", "show", token_id, "--json").stdout)
    assert shown["status"] == "revoked"
    assert shown["revocation_reason"] == "leaked in a log"
    assert shown["revoked_by"] == "cli"


def test_revoke_all_of_a_user(cli: Cli, services: Setup, alice: str) -> None:
    """`token revoke --user NAME --all` revokes every token of that user only."""
    services.user("bob")
    secrets = [issue(cli, "--user", alice, "--label", f"s{n}")[1] for n in range(2)]
    _, bobs = issue(cli, "--user", "bob", "--label", "jira")

    result = cli("token", "revoke", "--user", alice, "--all")

    assert result.exit_code == 0, result.output
    assert not any(accepted(services, secret) for secret in secrets)
    assert accepted(services, bobs)


def test_revoke_needs_ids_or_user_and_all(cli: Cli) -> None:
    """`token revoke` with neither ids nor --user NAME --all is a usage error."""
    assert cli("token", "revoke").exit_code == 2
    assert cli("token", "revoke", "--all").exit_code == 2
    assert cli("token", "revoke", "abc", "--user", "alice", "--all").exit_code == 2


def test_rotate_without_grace_replaces_the_secret_at_once(
    cli: Cli, services: Setup, alice: str
) -> None:
    """`token rotate ID` prints a new working secret; the old one stops at once."""
    token_id, old = issue(cli, "--user", alice, "--label", "jira")

    result = cli("token", "rotate", token_id)

    assert result.exit_code == 0, result.output
    [new] = SECRET_LINE.findall(result.stdout)
    assert new != old
    assert authenticate(services, new).name == alice
    assert not accepted(services, old)


def test_rotate_with_grace_keeps_the_old_secret_working(
    cli: Cli, services: Setup, alice: str
) -> None:
    """`token rotate ID --grace-seconds N` leaves the old secret valid for the grace."""
    token_id, old = issue(cli, "--user", alice, "--label", "jira")

    result = cli("token", "rotate", token_id, "--grace-seconds", "3600", "--json")

    assert result.exit_code == 0, result.output
    rotated = json.loads(result.stdout)
    assert rotated["token"]["rotated_from_id"] == token_id
    assert accepted(services, rotated["secret"])
    assert accepted(services, old)
