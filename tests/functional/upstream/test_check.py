"""The check request itself, against a fake Jira over real HTTP (G6)."""

from __future__ import annotations

import asyncio

import pytest

from tests.functional.upstream.conftest import new_pat
from tests.functional.upstream.fake_jira import MYSELF, FakeJira
from tokenward.upstream.check import UpstreamCheck


def test_a_proxy_named_in_the_environment_is_not_used(
    jira: FakeJira, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check goes straight to the upstream, as the reverse proxy does, even
    with HTTP_PROXY set: a proxy would see the credential."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")
    check = UpstreamCheck(jira.url + MYSELF, timeout=10)

    checked_as = asyncio.run(check.verify(f"Bearer {pat}", owner="alice"))

    assert checked_as == "alice"
    assert jira.seen == [f"Bearer {pat}"]
