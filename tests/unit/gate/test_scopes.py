"""What a read-only token may do: safe methods, presets and custom rules (T4)."""

from __future__ import annotations

import pytest

from tokenward.gate.scopes import PRESETS, SAFE_METHODS, ScopeRule, ScopeRules

EVERY_PRESET = ScopeRules.build(PRESETS)
NO_PRESET = ScopeRules.build(())
OTHER_METHODS = ("POST", "PUT", "PATCH", "DELETE", "PROPFIND", "MKCOL")


@pytest.mark.parametrize("method", sorted(SAFE_METHODS))
def test_safe_methods_are_reads(method: str) -> None:
    """GET, HEAD and OPTIONS are reads anywhere no rule says otherwise."""
    assert NO_PRESET.is_read(method, "/rest/api/2/issue/ABC-1", "")
    assert EVERY_PRESET.is_read(method, "/rest/api/2/issue/ABC-1", "")


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_are_writes(method: str) -> None:
    """Every other method is a write where no rule says otherwise."""
    assert not NO_PRESET.is_read(method, "/rest/api/2/issue", "")
    assert not EVERY_PRESET.is_read(method, "/rest/api/2/issue", "")


@pytest.mark.parametrize(
    ("preset", "path"),
    [
        ("jira", "/rest/api/2/search"),
        ("jira", "/rest/api/latest/search"),
        ("jira", "/rest/api/2/worklog/list"),
        ("jira", "/rest/api/latest/worklog/list"),
        ("confluence", "/rest/api/contentbody/convert/view"),
        ("confluence", "/rest/api/contentbody/convert/storage"),
        ("bitbucket", "/rest/search/latest/search"),
        ("bitbucket", "/rest/api/latest/markup/preview"),
        ("bitbucket", "/rest/api/1.0/markup/preview"),
        ("bitbucket", "/rest/build-status/latest/commits/stats"),
        ("bitbucket", "/rest/build-status/1.0/commits/stats"),
        ("git", "/scm/proj/repo.git/git-upload-pack"),
        ("git", "/repo.git/git-upload-pack"),
    ],
)
def test_preset_reads_with_post(preset: str, path: str) -> None:
    """Each preset's POST reads are reads with that preset, and writes without it."""
    others = [name for name in PRESETS if name != preset]

    assert ScopeRules.build([preset]).is_read("POST", path, "")
    assert ScopeRules.build(PRESETS).is_read("POST", path, "")
    assert not ScopeRules.build(others).is_read("POST", path, "")


@pytest.mark.parametrize(
    ("preset", "method", "path"),
    [
        ("jira", "PUT", "/rest/api/2/search"),
        ("jira", "POST", "/rest/api/2/issue"),
        ("jira", "POST", "/rest/api/2/search/extra"),
        ("confluence", "POST", "/rest/api/content"),
        ("confluence", "POST", "/rest/api/contentbody/convert/view/extra"),
        ("bitbucket", "POST", "/rest/api/1.0/projects/P/repos"),
        ("bitbucket", "DELETE", "/rest/search/latest/search"),
    ],
)
def test_preset_reads_are_narrow(preset: str, method: str, path: str) -> None:
    """A preset admits its listed POST reads only, not other methods or paths."""
    assert not ScopeRules.build([preset]).is_read(method, path, "")


def test_git_push_discovery_is_a_write() -> None:
    """GET and HEAD of info/refs for git-receive-pack are writes (push discovery)."""
    git = ScopeRules.build(["git"])
    path = "/scm/proj/repo.git/info/refs"

    assert not git.is_read("GET", path, "service=git-receive-pack")
    assert not git.is_read("HEAD", path, "service=git-receive-pack")
    assert not git.is_read("GET", path, "x=1&service=git-receive-pack")


def test_git_fetch_discovery_is_a_read() -> None:
    """GET of info/refs for git-upload-pack (clone, fetch) stays a read."""
    git = ScopeRules.build(["git"])
    path = "/scm/proj/repo.git/info/refs"

    assert git.is_read("GET", path, "service=git-upload-pack")
    assert git.is_read("GET", path, "")
    # Only the exact parameter counts, not a look-alike.
    assert git.is_read("GET", path, "xservice=git-receive-pack")


def test_git_upload_is_a_read_and_receive_a_write() -> None:
    """POST git-upload-pack (fetch) is a read; POST git-receive-pack (push) a write."""
    git = ScopeRules.build(["git"])

    assert git.is_read("POST", "/scm/proj/repo.git/git-upload-pack", "")
    assert not git.is_read("POST", "/scm/proj/repo.git/git-receive-pack", "")


def test_push_discovery_is_a_write_without_the_git_preset() -> None:
    """Without the git preset, push discovery by GET is a read and upload-pack a
    write: the preset is what carries git's exceptions."""
    assert NO_PRESET.is_read("GET", "/r.git/info/refs", "service=git-receive-pack")
    assert not NO_PRESET.is_read("POST", "/r.git/git-upload-pack", "")


def test_custom_rules_add_reads_and_writes() -> None:
    """A custom rule can make a POST a read, or a GET a write, on its paths."""
    rules = ScopeRules.build(
        [],
        [
            ScopeRule(frozenset({"POST"}), "/rest/reports/*/run", read=True),
            ScopeRule(frozenset({"GET"}), "/admin/**", read=False),
        ],
    )

    assert rules.is_read("POST", "/rest/reports/42/run", "")
    assert not rules.is_read("POST", "/rest/reports/42/delete", "")
    assert not rules.is_read("GET", "/admin/users", "")
    assert rules.is_read("GET", "/rest/reports/42", "")


def test_custom_rules_override_presets() -> None:
    """Custom rules come first: they can take a preset's read back, or add one."""
    rules = ScopeRules.build(
        ["jira", "git"],
        [
            ScopeRule(frozenset({"POST"}), "/rest/api/2/search", read=False),
            ScopeRule(frozenset({"POST"}), "/**/git-receive-pack", read=True),
        ],
    )

    assert not rules.is_read("POST", "/rest/api/2/search", "")
    assert rules.is_read("POST", "/rest/api/latest/search", "")
    assert rules.is_read("POST", "/r.git/git-receive-pack", "")


def test_rule_with_a_query() -> None:
    """A rule with a query applies only when the query carries that parameter."""
    rule = ScopeRule(frozenset({"GET"}), "/export", read=False, query="all=1")

    assert rule.applies("GET", "/export", "all=1")
    assert rule.applies("GET", "/export", "a=2&all=1")
    assert not rule.applies("GET", "/export", "all=10")
    assert not rule.applies("GET", "/export", "")
    assert not rule.applies("POST", "/export", "all=1")


def test_unknown_preset_is_refused() -> None:
    """Naming a preset that does not exist is an error, not a silent no-op."""
    with pytest.raises(ValueError, match="gitlab"):
        ScopeRules.build(["gitlab"])


def test_encoded_push_discovery_is_still_a_write() -> None:
    """A percent-encoded `service=git-receive-pack` query is read as git decodes it."""
    rules = ScopeRules.build(["git"])

    assert not rules.is_read(
        "GET", "/scm/p/r.git/info/refs", "service=git%2Dreceive-pack"
    )
    assert rules.is_read("GET", "/scm/p/r.git/info/refs", "service=git-upload-pack")
