"""`tokenward policy tokens show|set|impact|apply|expire-inactive` and
`tokenward policy gate impact` against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.support import Setup
from tokenward.container import Container
from tokenward.policies.permissions import Actor
from tokenward.policies.token_policy import TokenPolicyDocument
from tokenward.tokens.attributes import Tier
from tokenward.tokens.specs import IssuedToken

OPERATOR = Actor.operator("test")


def stored(services: Setup) -> TokenPolicyDocument:
    """The token policy as the service reads it."""

    async def work(container: Container) -> TokenPolicyDocument:
        return await container.token_policy.get(OPERATOR)

    return services.run(work)


def state(services: Setup, token: IssuedToken) -> tuple[str, str | None]:
    """A token's status now, and its revocation reason."""
    found = services.run(lambda c: c.tokens.get(OPERATOR, token.token.id, managed=True))

    return found.status_at(services.clock.now()), found.revocation_reason


def table(output: str) -> dict[str, str]:
    """The rows of a two-column table, by their first cell."""
    rows = [line.split(None, 1) for line in output.splitlines()[1:]]

    return {row[0]: row[1] for row in rows}


def test_show_defaults(cli: Cli) -> None:
    """`show` prints every tier, the limits, and the instance's default lifetime."""
    result = cli("policy", "tokens", "show")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["SETTING", "VALUE"]
    rows = table(result.stdout)
    expected = "no maximum, default 90 days (the instance's), never expires: allowed"
    assert rows["tiers.self"] == expected
    assert rows["tiers.manager"] == expected
    assert rows["tiers.request"] == expected
    assert rows["force_read_only_for_self"] == "no"
    assert rows["max_active_tokens_per_user"] == "no limit"
    assert rows["inactivity_days"] == "off"


def test_set_edits_and_show(cli: Cli, services: Setup) -> None:
    """`set` edits values by path, group names with dots included, and `show`
    prints them; the change is audited as the CLI."""
    services.user("alice", groups=("team.ops",))

    result = cli(
        "policy",
        "tokens",
        "set",
        "--set",
        "tiers.self.max_days=90",
        "--set",
        "tiers.self.default_days=30",
        "--set",
        "group_overrides.team.ops.manager.max_days=730",
        "--set",
        "force_read_only_for_self=true",
        "--set",
        "inactivity_days=60",
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "the token policy is saved"
    document = stored(services).model_dump(mode="json")
    assert document["tiers"]["self"] == {
        "max_days": 90,
        "default_days": 30,
        "never_expires": None,
    }
    assert document["group_overrides"] == {
        "team.ops": {
            "manager": {"max_days": 730, "default_days": None, "never_expires": None}
        }
    }
    assert document["force_read_only_for_self"] is True
    assert document["inactivity_days"] == 60
    rows = table(cli("policy", "tokens", "show").stdout)
    assert rows["tiers.self"] == "max 90 days, default 30 days, must expire"
    assert rows["group_overrides.team.ops.manager"] == (
        "max 730 days, default 90 days (the instance's), must expire"
    )
    [change] = [r for r in services.audit_trail() if r.event == "policy_changed"]
    assert change.actor == "cli"
    assert change.details["after"] == document


def test_unset_and_json(cli: Cli, services: Setup) -> None:
    """`--unset` removes a value so that it takes its default; `show --json`
    prints the document as the REST API answers it."""
    services.user("alice", groups=("contractors",))
    cli(
        "policy",
        "tokens",
        "set",
        "--set",
        'group_overrides.contractors={"self": {"max_days": 30}}',
        "--set",
        "max_active_tokens_per_user=5",
    )

    result = cli(
        "policy",
        "tokens",
        "set",
        "--unset",
        "group_overrides.contractors",
        "--set",
        "max_active_tokens_per_user=null",
    )
    shown = cli("policy", "tokens", "show", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(shown.stdout) == TokenPolicyDocument().model_dump(mode="json")


def test_set_from_a_file(cli: Cli, services: Setup, tmp_path: Path) -> None:
    """`--file` starts from a JSON document instead of the policy in force."""
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tiers": {"manager": {"max_days": 400}}}))

    result = cli("policy", "tokens", "set", "--file", str(path))

    assert result.exit_code == 0, result.output
    assert stored(services).tiers[Tier.MANAGER].max_days == 400


def test_unchanged_saves_nothing(cli: Cli, services: Setup) -> None:
    """Setting what is in force already says so and records nothing."""
    result = cli("policy", "tokens", "set", "--set", "inactivity_days=null")

    assert result.stdout.strip() == "the token policy is unchanged"
    assert not [r for r in services.audit_trail() if r.event == "policy_changed"]


def test_set_refuses_a_policy_that_breaks_tokens(cli: Cli, services: Setup) -> None:
    """`set` saves nothing that would break active tokens and says how many."""
    services.user("alice")  # her token lives the instance's 90 days

    result = cli("policy", "tokens", "set", "--set", "tiers.manager.max_days=30")

    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: 1 active token of 1 user would break this policy"
    )
    assert stored(services).tiers[Tier.MANAGER].max_days is None


def test_impact_and_apply_revoke(cli: Cli, services: Setup) -> None:
    """`impact` lists the breaking tokens without saving; `apply --action revoke`
    saves and revokes them."""
    services.user("alice")
    never = services.issue("alice", label="forever", never_expires=True)
    edit = ("--set", "tiers.manager.never_expires=false")

    dry = cli("policy", "tokens", "impact", *edit)
    as_json = cli("policy", "tokens", "impact", *edit, "--json")
    applied = cli("policy", "tokens", "apply", "--action", "revoke", *edit)

    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[0] == "1 active token of 1 user breaks the policy (never_expires 1)"
    assert lines[2].split() == [
        "OWNER",
        "TOKEN",
        "LABEL",
        "TIER",
        "REASONS",
        "EXPIRES",
        "IF",
        "SHORTENED",
        "OUTSIDE",
    ]
    assert lines[3].split()[:6] == [
        "alice",
        never.token.id,
        "forever",
        "manager",
        "never_expires",
        "never",
    ]
    report = json.loads(as_json.stdout)
    assert (report["tokens"], report["owners"]) == (1, 1)
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines() == [
        "the token policy is saved; 1 active token of 1 user breaks the policy",
        "revoked: 1",
    ]
    assert state(services, never) == ("revoked", "policy")
    assert stored(services).tiers[Tier.MANAGER].never_expires is False


def test_impact_of_the_policy_in_force(cli: Cli, services: Setup) -> None:
    """Without edits, `impact` judges the policy in force: none breaks it at first."""
    services.user("alice")

    result = cli("policy", "tokens", "impact")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no active token breaks the policy"


def test_apply_shorten_with_grace(cli: Cli, services: Setup) -> None:
    """`apply --action shorten` shortens the breaking tokens and says how many."""
    services.user("alice")
    services.issue("alice", label="forever", never_expires=True)

    result = cli(
        "policy",
        "tokens",
        "apply",
        "--action",
        "shorten",
        "--grace-days",
        "3",
        "--set",
        "tiers.manager.max_days=30",
        "--json",
    )

    assert result.exit_code == 0, result.output
    applied: dict[str, Any] = json.loads(result.stdout)
    assert applied["action"] == "shorten"
    assert len(applied["shortened"]) == 2  # the never-expiring and the setup token
    assert applied["policy"]["tiers"]["manager"]["max_days"] == 30


def test_expire_inactive(cli: Cli, services: Setup) -> None:
    """`expire-inactive` does nothing while inactivity is off."""
    services.user("alice")

    result = cli("policy", "tokens", "expire-inactive")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "expired 0 inactive tokens"


def test_gate_impact(cli: Cli, services: Setup) -> None:
    """`policy gate impact` lists the tokens a candidate gate policy's networks
    would strand, and saves nothing."""
    services.user("alice")
    outside = services.issue("alice", label="lab", allowed_networks=["192.0.2.0/24"])
    services.issue("alice", label="office", allowed_networks=["10.1.0.0/16"])

    result = cli("policy", "gate", "impact", "--set", "allowed_networks=10.0.0.0/8")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1 active token of 1 user breaks the policy (networks 1)"
    assert outside.token.id in lines[3]
    assert lines[3].split()[-1] == "192.0.2.0/24"
    shown = cli("policy", "gate", "show", "--json")
    assert json.loads(shown.stdout)["allowed_networks"] == []


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("set",), 2, "give --file PATH and/or --set/--unset"),
        (("set", "--set", "lifetimes.self=1"), 2, "not a token policy field"),
        (("set", "--set", "inactivity_days"), 2, "is not PATH=VALUE"),
        (
            ("set", "--set", "tiers.self.max_days=0"),
            1,
            "invalid token policy, nothing saved: tiers.self.max_days: Input "
            "should be greater than or equal to 1",
        ),
        (("set", "--unset", "group_overrides.none"), 1, "is not set"),
        (
            ("set", "--set", "group_overrides.ghosts.self.max_days=5"),
            1,
            "group_overrides names groups that do not exist: ghosts",
        ),
        (("apply", "--set", "inactivity_days=5"), 2, "--action"),
        (("apply", "--action", "ban"), 2, "ban"),
        (("impact", "--grace-days", "91"), 2, "--grace-days"),
    ],
)
def test_errors(
    cli: Cli, services: Setup, args: tuple[str, ...], code: int, words: str
) -> None:
    """Bad usage exits 2 and a bad policy exits 1, each naming the problem; nothing
    is saved."""
    result = cli("policy", "tokens", *args)

    assert result.exit_code == code, result.output
    assert words in " ".join(result.stderr.split())
    assert stored(services) == TokenPolicyDocument()
