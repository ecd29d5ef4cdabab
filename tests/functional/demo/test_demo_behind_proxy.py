"""The demo upstream behind tokenward's reverse proxy, as the quick start shows it:
a read and a write that succeed, the same write refused with a read-only token, and
a password login refused when passwords are disabled."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import OPERATOR, ORIGIN, LiveProxy, Setup, serve_asgi, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.demo import create_demo_app
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.services import GatePolicyService
from tokenward.tokens.attributes import Scope

NEW_ISSUE = {
    "fields": {
        "project": {"key": "DEMO"},
        "summary": "Created through tokenward",
        "issuetype": {"name": "Task"},
    }
}


@pytest.fixture
def demo(settings: Settings, clock: FrozenClock) -> Iterator[LiveProxy]:
    """tokenward's proxy in front of a fresh demo tracker."""
    with (
        serve_asgi(create_demo_app()) as upstream,
        start_proxy(settings, clock, upstream) as proxy,
    ):
        yield proxy


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(proxy: LiveProxy, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=f"{proxy.url}/rest/api/2", timeout=10, **kwargs)


def test_a_read_write_token_reads_and_writes(demo: LiveProxy, setup: Setup) -> None:
    """A read and a write succeed; the tracker records the token's owner."""
    token = setup.user("alice")

    with client(demo, headers=bearer(token)) as api:
        read = api.get("/issue/DEMO-1")
        created = api.post("/issue", json=NEW_ISSUE)
        again = api.get(f"/issue/{created.json()['key']}")

    assert read.status_code == 200
    assert created.status_code == 201
    assert again.json()["fields"]["reporter"] == {"name": "alice"}


def test_a_read_only_token_searches_but_cannot_write(
    demo: LiveProxy, setup: Setup
) -> None:
    """Jira's POST search is a read; creating an issue is refused with 403."""
    setup.user("alice")
    token = setup.token("alice", label="dashboard", scope=Scope.READ_ONLY)

    with client(demo, headers=bearer(token)) as api:
        search = api.post("/search", json={"jql": "project = DEMO"})
        write = api.post("/issue", json=NEW_ISSUE)
        after = api.post("/search", json={"jql": "project = DEMO"})

    assert search.status_code == 200
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "read_only_scope"
    assert after.json()["total"] == search.json()["total"] == 3


def test_the_tracker_knows_the_caller_from_tokenward_alone(
    demo: LiveProxy, setup: Setup
) -> None:
    """/myself answers the token's owner, groups and scope, never the token."""
    token = setup.user("alice", groups=("jira-users",))

    with client(demo, headers=bearer(token)) as api:
        myself = api.get("/myself", headers={"X-Tokenward-User": "admin"})

    assert myself.json()["name"] == "alice"
    assert myself.json()["groups"] == ["jira-users"]
    assert myself.json()["scope"] == "read-write"
    assert myself.json()["authorization"] is None
    assert token not in myself.text


def test_a_password_login_is_refused_once_passwords_are_disabled(
    demo: LiveProxy, setup: Setup
) -> None:
    """Basic user:password passes while allowed and is refused (401) once denied."""
    setup.user("bob")
    password = base64.b64encode(b"bob:hunter2").decode()
    sent = {"Authorization": f"Basic {password}"}
    deny = GatePolicyDocument(passwords="deny")

    with client(demo, headers=sent) as api:
        allowed = api.get("/myself")
        setup.run(
            lambda c: GatePolicyService(c.db, c.clock).replace(OPERATOR, ORIGIN, deny)
        )
        # The live gate learns of the change within its cache bound (SPEC S2).
        refused = _refused_within_bound(api)

    assert allowed.status_code == 200
    assert allowed.json()["authorization"] == {"scheme": "Basic", "username": "bob"}
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "password_denied"
    assert "www-authenticate" in refused.headers


def _refused_within_bound(api: httpx.Client) -> httpx.Response:
    """Ask until the gate refuses, for at most ten seconds."""
    deadline = time.monotonic() + 10
    while True:
        answer = api.get("/myself")
        if answer.status_code != 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)
