"""Request paths as the upstream will route them, and patterns over them. Pure.

A rule written for `/rest/api/2/search` must also catch `//rest/api/2/./search`,
`/rest/api/2/x/../search` and `/rest/%61pi/2/search`, or a read-only token could
reach a write by spelling its path differently. So every decision is made on the
normalised path: percent-encoded unreserved characters decoded, duplicate slashes
merged, dot segments resolved, and `;parameters` dropped from each segment, as
Tomcat (under Jira, Confluence and Bitbucket) drops them before routing. An encoded
slash (`%2F`) stays encoded, since servers differ on whether it separates segments,
and a path that tries to climb above the root is refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


class PathError(ValueError):
    """The path cannot be normalised safely."""


def normalise_path(raw: str) -> str:
    """The path part of a request target, normalised; the query is not included."""
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise PathError("a request path starts with /")
    path = _PERCENT.sub(_decode_unreserved, path)
    segments: list[str] = []
    for raw_segment in path.split("/")[1:]:
        segment = raw_segment.split(";", 1)[0]
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise PathError("the path climbs above the root")
            segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if path.endswith(("/", "/.", "/..")) and segments else ""

    return "/" + "/".join(segments) + trailing


def split_target(target: str) -> tuple[str, str]:
    """Split a request target (`/path?query`) into path and query."""
    path, _, query = target.partition("?")

    return path, query.split("#", 1)[0]


def _decode_unreserved(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16))
    # Only unreserved characters are decoded; `.` makes `%2e%2e` a dot segment.
    return character if character in _UNRESERVED else match.group(0).upper()


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A path glob: `*` matches within one segment, `**` across segments.

    `/rest/api/*/search` matches `/rest/api/2/search`; `/**/git-upload-pack`
    matches any path that ends in that segment.
    """
    if not pattern.startswith("/"):
        raise ValueError(f"a path pattern starts with /: {pattern!r}")
    parts = re.split(r"(\*\*/|\*\*|\*)", pattern)
    regex = []
    for part in parts:
        if part == "**/":
            regex.append("(?:[^/]*/)*")
        elif part == "**":
            regex.append(".*")
        elif part == "*":
            regex.append("[^/]*")
        else:
            regex.append(re.escape(part))

    return re.compile("".join(regex) + "/?")


def matches(pattern: str, path: str) -> bool:
    return compile_pattern(pattern).fullmatch(path) is not None
