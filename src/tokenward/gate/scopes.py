"""Which requests a read-only token may make (SPEC T4). Pure.

Safe methods (GET, HEAD, OPTIONS) are reads and everything else is a write, except
where a rule says otherwise: some products read with POST (Jira's search, git's
upload-pack) and some signal a write with GET (git's push discovery,
`info/refs?service=git-receive-pack`). The first rule that matches decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from tokenward.gate.paths import compile_pattern

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class ScopeRule:
    """`methods` on paths matching `path` (and carrying `query` if set) are reads
    when `read` is true, writes otherwise."""

    methods: frozenset[str]
    path: str
    read: bool
    query: str | None = None

    def applies(self, method: str, path: str, query: str) -> bool:
        if method not in self.methods:
            return False
        # Compared decoded, as the upstream reads it: git decodes
        # `service=git%2Dreceive-pack` to a push.
        if self.query is not None and self.query not in (
            unquote_plus(pair) for pair in query.split("&")
        ):
            return False

        return compile_pattern(self.path).fullmatch(path) is not None


def _reads(*paths: str) -> tuple[ScopeRule, ...]:
    return tuple(ScopeRule(frozenset({"POST"}), path, read=True) for path in paths)


# Reads done with POST, and writes done with GET, per product. Sources: each
# product's REST reference and gitprotocol-http(5); see docs/atlassian.md.
PRESETS: dict[str, tuple[ScopeRule, ...]] = {
    "jira": _reads(
        "/rest/api/2/search",
        "/rest/api/latest/search",
        "/rest/api/2/worklog/list",
        "/rest/api/latest/worklog/list",
    ),
    "confluence": _reads(
        "/rest/api/contentbody/convert/*",
    ),
    "bitbucket": _reads(
        "/rest/search/latest/search",
        "/rest/api/latest/markup/preview",
        "/rest/api/1.0/markup/preview",
        "/rest/build-status/latest/commits/stats",
        "/rest/build-status/1.0/commits/stats",
    ),
    "git": (
        ScopeRule(
            frozenset({"GET", "HEAD"}),
            "/**/info/refs",
            read=False,
            query="service=git-receive-pack",
        ),
        ScopeRule(frozenset({"POST"}), "/**/git-receive-pack", read=False),
        ScopeRule(frozenset({"POST"}), "/**/git-upload-pack", read=True),
    ),
}


@dataclass(frozen=True, slots=True)
class ScopeRules:
    rules: tuple[ScopeRule, ...] = ()

    @classmethod
    def build(
        cls, presets: Iterable[str], custom: Iterable[ScopeRule] = ()
    ) -> ScopeRules:
        """Custom rules first (they can override a preset), then presets in order."""
        rules = list(custom)
        for name in presets:
            if name not in PRESETS:
                raise ValueError(f"unknown read-only preset {name!r}")
            rules.extend(PRESETS[name])

        return cls(tuple(rules))

    def is_read(self, method: str, path: str, query: str) -> bool:
        for rule in self.rules:
            if rule.applies(method, path, query):
                return rule.read

        return method in SAFE_METHODS
