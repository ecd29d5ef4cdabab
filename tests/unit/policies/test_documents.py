"""The gate policy document: validation, normalisation and its compiled form."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tokenward.gate.decision import GatePolicy
from tokenward.gate.reasons import Reason
from tokenward.gate.scopes import PRESETS, ScopeRule
from tokenward.policies.documents import (
    ALL_PRESETS,
    GatePolicyDocument,
    ScopeRuleDocument,
)


def test_presets_are_the_gate_presets() -> None:
    """The presets a policy may name are exactly the gate's, in a stable order."""
    assert list(ALL_PRESETS) == list(PRESETS)


def test_defaults_compile_to_an_open_gate_with_every_preset() -> None:
    """The default policy: anywhere, passwords allowed, every preset, no rules."""
    compiled = GatePolicyDocument().compile()

    assert compiled.allowed_networks == ()
    assert compiled.passwords_allowed
    assert compiled.token_only_paths == ()
    assert compiled.scope_rules.rules == tuple(
        rule for name in ALL_PRESETS for rule in PRESETS[name]
    )


def test_compiled_form() -> None:
    """Every field reaches the compiled policy, networks parsed, custom rules first."""
    document = GatePolicyDocument(
        allowed_networks=["10.0.0.0/8", "2001:db8::/32"],
        passwords="deny",
        password_exempt_users=["svc"],
        password_exempt_groups=["legacy"],
        password_exempt_paths=["/rest/legacy/**"],
        password_exempt_networks=["192.0.2.0/24"],
        token_only_paths=["/rest/api/**"],
        read_only_presets=["git"],
        read_only_rules=[
            ScopeRuleDocument(methods=["post"], path="/rest/x", query="a=1")
        ],
    )

    compiled = document.compile()

    assert compiled == GatePolicy(
        allowed_networks=(
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_network("2001:db8::/32"),
        ),
        passwords_allowed=False,
        password_exempt_users=frozenset({"svc"}),
        password_exempt_groups=frozenset({"legacy"}),
        password_exempt_paths=("/rest/legacy/**",),
        password_exempt_networks=(ipaddress.ip_network("192.0.2.0/24"),),
        token_only_paths=("/rest/api/**",),
        scope_rules=compiled.scope_rules,
    )
    assert compiled.scope_rules.rules == (
        ScopeRule(frozenset({"POST"}), "/rest/x", read=True, query="a=1"),
        *PRESETS["git"],
    )


def test_networks_are_normalised() -> None:
    """Ranges are stored in canonical form, surrounding spaces removed."""
    document = GatePolicyDocument(
        allowed_networks=[" 10.0.0.0/8 ", "2001:DB8:0::/32", "192.0.2.7"]
    )

    assert document.allowed_networks == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]


def test_round_trip_through_json() -> None:
    """A stored document reads back equal, as the policy service relies on."""
    document = GatePolicyDocument(
        passwords="deny",
        read_only_rules=[ScopeRuleDocument(methods=["GET"], path="/x", read=False)],
    )

    again = GatePolicyDocument(**document.model_dump(mode="json"))

    assert again == document
    assert again.compile() == document.compile()


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        ({"allowed_networks": ["10.0.0.1/8"]}, ("allowed_networks",), "host bits"),
        ({"allowed_networks": ["lan"]}, ("allowed_networks",), "'lan'"),
        (
            {"password_exempt_networks": ["1.2.3.4/33"]},
            ("password_exempt_networks",),
            "1.2.3.4/33",
        ),
        ({"token_only_paths": ["rest/**"]}, ("token_only_paths",), "starts with /"),
        ({"password_exempt_paths": [""]}, ("password_exempt_paths",), "starts with /"),
        ({"passwords": "yes"}, ("passwords",), "'allow' or 'deny'"),
        ({"read_only_presets": ["gitlab"]}, ("read_only_presets", 0), "'jira'"),
        ({"surprise": 1}, ("surprise",), "not permitted"),
        (
            {"read_only_rules": [{"methods": ["GET", "BREW"], "path": "/x"}]},
            ("read_only_rules", 0, "methods"),
            "unknown HTTP methods: BREW",
        ),
        (
            {"read_only_rules": [{"methods": [], "path": "/x"}]},
            ("read_only_rules", 0, "methods"),
            "at least 1",
        ),
        (
            {"read_only_rules": [{"methods": ["POST"], "path": "x/**"}]},
            ("read_only_rules", 0, "path"),
            "starts with /",
        ),
        (
            {"read_only_rules": [{"methods": ["POST"], "path": "/x", "why": "?"}]},
            ("read_only_rules", 0, "why"),
            "not permitted",
        ),
    ],
)
def test_invalid_documents(
    data: dict[str, Any], location: tuple[str | int, ...], words: str
) -> None:
    """Each invalid field is refused, located, and explained."""
    with pytest.raises(ValidationError) as raised:
        GatePolicyDocument(**data)

    [error] = raised.value.errors()
    assert error["loc"] == location
    assert words in error["msg"]


def test_methods_are_upper_cased() -> None:
    """Rule methods are stored upper-case, whatever case they were written in."""
    rule = ScopeRuleDocument(methods=["post", "Get"], path="/x")

    assert rule.methods == ["POST", "GET"]
    assert rule.read
    assert rule.query is None


# docs/policies-gate.md stays in step with the document and the reason codes.

DOC = (Path(__file__).resolve().parents[3] / "docs" / "policies-gate.md").read_text()
TABLE_ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \|", re.MULTILINE)
JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.DOTALL)


def test_doc_lists_every_field() -> None:
    """The doc's field table has one row per field of the document, and no other."""
    section = DOC.split("## The document", 1)[1].split("\n## ", 1)[0]
    rows = [name for name, _ in TABLE_ROW.findall(section)]

    assert sorted(rows) == sorted(GatePolicyDocument.model_fields)


def test_doc_lists_every_reason_with_its_status() -> None:
    """The doc's reason table has every reason code once, with its status."""
    rows = {
        name: status.strip()
        for name, status in TABLE_ROW.findall(DOC)
        if name in set(Reason)
    }

    assert rows == {str(reason): str(reason.status) for reason in Reason}


def test_doc_presets_match_the_gate() -> None:
    """Each preset's row in the doc names every path of that preset."""
    for name, rules in PRESETS.items():
        [row] = [line for line in DOC.splitlines() if line.startswith(f"| `{name}` |")]
        for rule in rules:
            assert f"`{rule.path}" in row, (name, rule.path)


def test_doc_examples_are_valid() -> None:
    """Every policy and rule example in the doc is accepted as written."""
    examples = [json.loads(block) for block in JSON_BLOCK.findall(DOC)]
    policies = [e for e in examples if set(e) <= set(GatePolicyDocument.model_fields)]
    rules = [e for e in examples if "methods" in e]

    assert len(policies) >= 3
    assert rules
    for example in policies:
        GatePolicyDocument(**example)
    for example in rules:
        ScopeRuleDocument(**example)
    assert GatePolicyDocument(**policies[0]) == GatePolicyDocument()
