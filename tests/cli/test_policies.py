"""`tokenward policy gate show|set` against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.support import Setup
from tokenward.container import Container
from tokenward.policies.documents import ALL_PRESETS, GatePolicyDocument
from tokenward.policies.permissions import Actor

OPERATOR = Actor.operator("test")


def stored(services: Setup) -> GatePolicyDocument:
    """The gate policy as the service reads it."""

    async def work(container: Container) -> GatePolicyDocument:
        return await container.gate_policy.get(OPERATOR)

    return services.run(work)


def policy_changes(services: Setup) -> list[dict[str, Any]]:
    return [
        {"actor": record.actor, **record.details}
        for record in services.audit_trail()
        if record.event == "policy_changed"
    ]


def test_show_defaults_as_a_table(cli: Cli) -> None:
    """`show` prints each field by the name --set uses, with the defaults."""
    result = cli("policy", "gate", "show")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE"]
    rows = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in lines[1:]}
    assert rows["allowed_networks"] == "anywhere"
    assert rows["passwords"] == "allow"
    assert rows["read_only_presets"] == ", ".join(ALL_PRESETS)
    assert rows["read_only_rules"] == "-"
    assert set(rows) == set(GatePolicyDocument.model_fields)


def test_show_json_is_the_api_document(cli: Cli, services: Setup) -> None:
    """`show --json` prints the document exactly as the REST API answers it."""
    cli("policy", "gate", "set", "--set", "passwords=deny")

    result = cli("policy", "gate", "show", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == stored(services).model_dump(mode="json")
    assert json.loads(result.stdout)["passwords"] == "deny"


def test_show_lists_each_rule(cli: Cli) -> None:
    """Custom read-only rules are shown one per line, method, path, query, kind."""
    rules = [
        {"methods": ["POST"], "path": "/rest/x/*/search"},
        {"methods": ["GET"], "path": "/**/export", "read": False, "query": "all=1"},
    ]
    cli("policy", "gate", "set", "--set", f"read_only_rules={json.dumps(rules)}")

    result = cli("policy", "gate", "show")

    assert "POST /rest/x/*/search is a read" in result.stdout
    assert "GET /**/export?all=1 is a write" in result.stdout


def test_set_from_a_file_replaces_the_policy(
    cli: Cli, services: Setup, tmp_path: Path
) -> None:
    """`set --file` saves the file's document; fields it leaves out are defaults."""
    cli("policy", "gate", "set", "--set", "token_only_paths=/rest/**")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"passwords": "deny", "allowed_networks": ["::/0"]}))

    result = cli("policy", "gate", "set", "--file", str(path))

    assert result.exit_code == 0, result.output
    document = stored(services)
    assert document.passwords == "deny"
    assert document.allowed_networks == ["::/0"]
    assert document.token_only_paths == []
    assert 'passwords: "allow" -> "deny"' in result.stdout
    assert 'token_only_paths: ["/rest/**"] -> []' in result.stdout


def test_set_from_stdin(cli: Cli, services: Setup) -> None:
    """`--file -` reads the document from standard input."""
    result = cli("policy", "gate", "set", "--file", "-", stdin='{"passwords": "deny"}')

    assert result.exit_code == 0, result.output
    assert stored(services).passwords == "deny"


def test_file_then_edits(cli: Cli, services: Setup, tmp_path: Path) -> None:
    """Edits apply on top of the file, in order."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"token_only_paths": ["/a/**"]}))

    result = cli(
        "policy",
        "gate",
        "set",
        "--file",
        str(path),
        "--set",
        "token_only_paths+=/b/**",
        "--set",
        "passwords=deny",
    )

    assert result.exit_code == 0, result.output
    document = stored(services)
    assert document.token_only_paths == ["/a/**", "/b/**"]
    assert document.passwords == "deny"


def test_list_edits(cli: Cli, services: Setup) -> None:
    """`=` replaces a list from commas, `+=` adds what is missing, `-=` removes."""
    cli("policy", "gate", "set", "--set", "allowed_networks=10.0.0.0/8, 192.0.2.0/24")
    cli("policy", "gate", "set", "--set", "allowed_networks+=fd00::/8,10.0.0.0/8")
    cli("policy", "gate", "set", "--set", "read_only_presets-=git,confluence")
    assert stored(services).allowed_networks == [
        "10.0.0.0/8",
        "192.0.2.0/24",
        "fd00::/8",
    ]
    assert stored(services).read_only_presets == ["jira", "bitbucket"]

    cleared = cli("policy", "gate", "set", "--set", "allowed_networks=")

    assert cleared.exit_code == 0, cleared.output
    assert stored(services).allowed_networks == []


def test_removing_a_rule_written_without_its_defaults(
    cli: Cli, services: Setup
) -> None:
    """A rule is found for `-=` however it was written: defaults are filled in."""
    rule = '[{"methods": ["post"], "path": "/rest/x"}]'
    cli("policy", "gate", "set", "--set", f"read_only_rules+={rule}")
    assert len(stored(services).read_only_rules) == 1

    result = cli("policy", "gate", "set", "--set", f"read_only_rules-={rule}")

    assert result.exit_code == 0, result.output
    assert stored(services).read_only_rules == []


def test_change_is_audited_as_the_cli(cli: Cli, services: Setup) -> None:
    """A change is recorded with the CLI as actor and the before and after."""
    cli("policy", "gate", "set", "--set", "passwords=deny")

    [change] = policy_changes(services)
    assert change["actor"] == "cli"
    assert change["before"]["passwords"] == "allow"
    assert change["after"]["passwords"] == "deny"


def test_unchanged_saves_nothing(cli: Cli, services: Setup) -> None:
    """Setting what is already in force says so and records no change."""
    result = cli("policy", "gate", "set", "--set", "passwords=allow")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "the gate policy is unchanged"
    assert policy_changes(services) == []


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("allowed_networks=10.0.0.1/8", "allowed_networks: Value error"),
        ("passwords=maybe", "passwords: Input should be 'allow' or 'deny'"),
        ("token_only_paths+=rest/**", "starts with /"),
        ("read_only_presets=gitlab", "read_only_presets.0:"),
        (
            'read_only_rules=[{"methods": ["FETCH"], "path": "/x"}]',
            "read_only_rules.0.methods: Value error, unknown HTTP methods: FETCH",
        ),
        ("read_only_rules=/x", "takes a JSON array"),
        ("read_only_rules=[1,", "not a JSON array"),
        ("password_exempt_users-=nobody", 'does not contain ["nobody"]'),
    ],
)
def test_invalid_edit_saves_nothing(
    cli: Cli, services: Setup, edit: str, words: str
) -> None:
    """An edit with an invalid result exits 1 with one line naming the problem."""
    before = stored(services)

    result = cli(
        "policy", "gate", "set", "--set", "allowed_networks=::/0", "--set", edit
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1
    assert words in result.stderr
    assert stored(services) == before
    assert policy_changes(services) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "--file PATH and/or --set"),
        (("--set", "passwords"), "is not FIELD=VALUE"),
        (("--set", "frobnicate=1"), "not a gate policy field"),
        (("--set", "passwords+=deny"), "is not a list"),
    ],
)
def test_usage_errors(cli: Cli, args: tuple[str, ...], words: str) -> None:
    """Missing or malformed options are usage errors (exit 2) naming the problem."""
    result = cli("policy", "gate", "set", *args)

    assert result.exit_code == 2
    assert words in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not JSON"),
        ('["passwords"]', "does not hold a JSON object"),
        ('{"passwords": "deny", "extra": 1}', "extra: Extra inputs are not permitted"),
        (None, "No such file"),
    ],
)
def test_bad_file(
    cli: Cli, services: Setup, tmp_path: Path, content: str | None, words: str
) -> None:
    """A file that is missing, not JSON, or not a valid policy saves nothing."""
    path = tmp_path / "policy.json"
    if content is not None:
        path.write_text(content)

    result = cli("policy", "gate", "set", "--file", str(path))

    assert result.exit_code == 1
    assert words in result.stderr
    assert policy_changes(services) == []
