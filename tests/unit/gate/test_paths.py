"""Request paths normalised as the upstream routes them, and path globs (T4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenward.gate.paths import (
    PathError,
    compile_pattern,
    matches,
    normalise_path,
    split_target,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("/rest/api/2/search", "/rest/api/2/search"),
        ("/rest/api/2/search/", "/rest/api/2/search/"),
        # Percent-encoded unreserved characters are decoded, in either case.
        ("/rest/%61pi/2/search", "/rest/api/2/search"),
        ("/rest/%41PI/%32/%7Euser", "/rest/API/2/~user"),
        ("/a%2db%5Fc%2Ed", "/a-b_c.d"),
        # Encoded dots become dot segments, and are resolved as such.
        ("/rest/api/2/x/%2e%2e/search", "/rest/api/2/search"),
        ("/rest/api/2/x/%2E%2E/search", "/rest/api/2/search"),
        ("/rest/api/.%2e/api/search", "/rest/api/search"),
        ("/rest/%2e/api", "/rest/api"),
        # An encoded slash stays encoded (upper-cased), never a separator.
        ("/repos/a%2Fb/raw", "/repos/a%2Fb/raw"),
        ("/repos/a%2fb/raw", "/repos/a%2Fb/raw"),
        ("/a/%2F../b", "/a/%2F../b"),
        # Other reserved or non-ASCII encodings stay encoded; % itself is not decoded
        # twice.
        ("/a%20b/%3Bc", "/a%20b/%3Bc"),
        ("/a/%252e%252e/b", "/a/%252e%252e/b"),
        ("/caf%C3%A9", "/caf%C3%A9"),
        # Duplicate slashes merge.
        ("//rest//api///2/search", "/rest/api/2/search"),
        ("/rest/api//", "/rest/api/"),
        # Dot segments resolve.
        ("/rest/./api/2/./search", "/rest/api/2/search"),
        ("/rest/api/2/x/../search", "/rest/api/2/search"),
        ("/rest/api/x/y/../../2/search", "/rest/api/2/search"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/a/..", "/"),
        # Path parameters are dropped from each segment, as Tomcat does.
        ("/rest;jsessionid=1/api/2/search", "/rest/api/2/search"),
        ("/rest/api/2/search;x=y", "/rest/api/2/search"),
        ("/rest/api/2/x/..;/search", "/rest/api/2/search"),
        ("/;x/rest", "/rest"),
        # Query and fragment are not part of the path.
        ("/rest/api?jql=a/../b", "/rest/api"),
        ("/rest/api#../x", "/rest/api"),
    ],
)
def test_normalise_path(raw: str, expected: str) -> None:
    """Each spelling of a path normalises to the one the upstream routes."""
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "/..",
        "/../etc/passwd",
        "/a/../../b",
        "/%2e%2e/admin",
        "/a/%2E%2E/%2e%2e",
        "/..;/admin",
        "//../x",
    ],
)
def test_climbing_above_the_root_is_refused(raw: str) -> None:
    """A path that climbs above the root cannot be normalised."""
    with pytest.raises(PathError, match="above the root"):
        normalise_path(raw)


@pytest.mark.parametrize("raw", ["", "rest/api", "*", "http://host/rest/api"])
def test_not_a_path_is_refused(raw: str) -> None:
    """A target that does not start with / is not a path the gate can judge."""
    with pytest.raises(PathError, match="starts with /"):
        normalise_path(raw)


SEGMENTS = st.lists(
    st.sampled_from(["a", "b", ".", "..", "", "%2e", "%2E%2e", "x;p=1", "%61", "%2F"]),
    max_size=8,
)


@given(SEGMENTS)
def test_normalised_paths_are_fixed_points(segments: list[str]) -> None:
    """A normalised path normalises to itself and has no dot or empty segments."""
    try:
        once = normalise_path("/" + "/".join(segments))
    except PathError:
        return

    assert normalise_path(once) == once
    inner = once.strip("/").split("/") if once != "/" else []
    assert not {"", ".", ".."} & set(inner)
    assert ";" not in once


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/a/b?x=1&y=2", ("/a/b", "x=1&y=2")),
        ("/a/b", ("/a/b", "")),
        ("/a?", ("/a", "")),
        ("/a?x=1#frag", ("/a", "x=1")),
        ("/a?x=?y", ("/a", "x=?y")),
    ],
)
def test_split_target(target: str, expected: tuple[str, str]) -> None:
    """A request target splits into its path and its query, without the fragment."""
    assert split_target(target) == expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/rest/api/2/search", "/rest/api/2/search", True),
        ("/rest/api/2/search", "/rest/api/2/search/", True),
        ("/rest/api/2/search", "/rest/api/2/searches", False),
        ("/rest/api/2/search", "/x/rest/api/2/search", False),
        # * stays within one segment.
        ("/rest/api/*/search", "/rest/api/2/search", True),
        ("/rest/api/*/search", "/rest/api/latest/search", True),
        ("/rest/api/*/search", "/rest/api/2/x/search", False),
        ("/rest/api/*", "/rest/api/", True),
        ("/files/*.json", "/files/a.json", True),
        ("/files/*.json", "/files/sub/a.json", False),
        # ** crosses segments.
        ("/rest/**", "/rest/api/2/issue/ABC-1", True),
        ("/rest/**", "/rest/", True),
        ("/rest/**", "/restricted", False),
        ("/**/git-upload-pack", "/scm/proj/repo.git/git-upload-pack", True),
        ("/**/git-upload-pack", "/git-upload-pack", True),
        ("/**/git-upload-pack", "/scm/x-git-upload-pack", False),
        ("/**/info/refs", "/scm/p/r.git/info/refs", True),
        ("/a/**/z", "/a/z", True),
        ("/a/**/z", "/a/b/c/z", True),
        ("/a/**/z", "/a/b/c/zz", False),
        # Everything else is literal, regular-expression characters included.
        ("/a.b", "/aXb", False),
        ("/a+b/(c)", "/a+b/(c)", True),
        ("/a?b", "/a?b", True),
        ("/a?b", "/axb", False),
    ],
)
def test_patterns(pattern: str, path: str, expected: bool) -> None:
    """`*` matches within a segment, `**` across, and the rest is literal."""
    assert matches(pattern, path) is expected


def test_pattern_must_start_with_a_slash() -> None:
    """A pattern that is not an absolute path is refused when compiled."""
    with pytest.raises(ValueError, match="starts with /"):
        compile_pattern("rest/**")
