"""The gate policy as administrators write it, and its compiled form.

The document is what the API, the CLI and the database hold; `compile` turns it
into the `GatePolicy` value the decision reads, with networks and patterns parsed
once rather than on every request.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from tokenward.gate.decision import GatePolicy
from tokenward.gate.paths import compile_pattern
from tokenward.gate.scopes import ScopeRule, ScopeRules
from tokenward.schemas import Input

Preset = Literal["jira", "confluence", "bitbucket", "git"]
ALL_PRESETS: tuple[Preset, ...] = ("jira", "confluence", "bitbucket", "git")
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "REPORT"}
)


def _networks(values: list[str]) -> list[str]:
    return [str(ipaddress.ip_network(value.strip(), strict=True)) for value in values]


def _patterns(values: list[str]) -> list[str]:
    for value in values:
        compile_pattern(value)

    return values


class ScopeRuleDocument(Input):
    """A custom read-only rule: `methods` on `path` are reads (or writes)."""

    methods: list[str] = Field(min_length=1)
    path: str = Field(description="Path glob: * within a segment, ** across.")
    read: bool = True
    query: str | None = Field(
        default=None, description="A `name=value` the query must contain."
    )

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods: list[str]) -> list[str]:
        upper = [method.upper() for method in methods]
        unknown = sorted(set(upper) - HTTP_METHODS)
        if unknown:
            raise ValueError(f"unknown HTTP methods: {', '.join(unknown)}")

        return upper

    @field_validator("path")
    @classmethod
    def _valid_path(cls, path: str) -> str:
        compile_pattern(path)

        return path


class GatePolicyDocument(Input):
    """Who may authenticate how, from where, on which paths (SPEC G3-G5, P6, T4)."""

    allowed_networks: list[str] = Field(
        default_factory=list,
        description="Ranges all API authentication must come from; empty: anywhere.",
    )
    passwords: Literal["allow", "deny"] = Field(
        default="allow", description="Whether Basic passwords still reach the API."
    )
    password_exempt_users: list[str] = Field(default_factory=list)
    password_exempt_groups: list[str] = Field(default_factory=list)
    password_exempt_paths: list[str] = Field(default_factory=list)
    password_exempt_networks: list[str] = Field(default_factory=list)
    token_only_paths: list[str] = Field(
        default_factory=list,
        description="Paths where a request without credentials is refused.",
    )
    read_only_presets: list[Preset] = Field(
        default_factory=lambda: list(ALL_PRESETS),
        description="Products whose reads-with-POST a read-only token may make.",
    )
    read_only_rules: list[ScopeRuleDocument] = Field(default_factory=list)

    _check_networks = field_validator("allowed_networks", "password_exempt_networks")(
        _networks
    )
    _check_paths = field_validator("password_exempt_paths", "token_only_paths")(
        _patterns
    )

    def compile(self) -> GatePolicy:
        custom = [
            ScopeRule(frozenset(rule.methods), rule.path, rule.read, rule.query)
            for rule in self.read_only_rules
        ]

        return GatePolicy(
            allowed_networks=tuple(map(ipaddress.ip_network, self.allowed_networks)),
            passwords_allowed=self.passwords == "allow",
            password_exempt_users=frozenset(self.password_exempt_users),
            password_exempt_groups=frozenset(self.password_exempt_groups),
            password_exempt_paths=tuple(self.password_exempt_paths),
            password_exempt_networks=tuple(
                map(ipaddress.ip_network, self.password_exempt_networks)
            ),
            token_only_paths=tuple(self.token_only_paths),
            scope_rules=ScopeRules.build(self.read_only_presets, custom),
        )
