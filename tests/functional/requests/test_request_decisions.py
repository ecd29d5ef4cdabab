"""Token requests through the REST API (SPEC P7): who may ask and decide, how far
an approval may narrow, the request tier, rejection, the queue, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import START
from tests.functional.notify.helpers import configure, outbox, webhook
from tests.functional.requests.helpers import People, ask, ok, refused, when
from tests.support import LiveServer, Setup
from tokenward.clock import FrozenClock
from tokenward.policies.permissions import Permission


def test_approval_may_narrow(server: LiveServer, setup: Setup, people: People) -> None:
    """A manager may approve read-only, shorter and within narrower ranges; the
    token generated has exactly the narrowed attributes."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice, allowed_networks=["10.0.0.0/8"], lifetime_days=90)
        approved = ok(
            mgr.post(
                f"/manage/requests/{request['id']}/approve",
                json={
                    "scope": "read-only",
                    "lifetime_days": 7,
                    "allowed_networks": ["10.1.0.0/16"],
                    "reason": "read-only is enough for a sync",
                },
            )
        )
        token = ok(alice.post(f"/requests/{request['id']}/token"), 201)["token"]

    assert approved["approved"] == {
        "scope": "read-only",
        "lifetime_days": 7,
        "allowed_networks": ["10.1.0.0/16"],
    }
    assert approved["decision_reason"] == "read-only is enough for a sync"
    assert token["scope"] == "read-only"
    assert token["allowed_networks"] == ["10.1.0.0/16"]
    assert when(token["expires_at"]) == START + dt.timedelta(days=7)
    [record] = [r for r in setup.audit_trail() if r.event == "token_request_approved"]
    assert record.details["narrowed"] is True


@pytest.mark.parametrize(
    ("asked", "approval", "field"),
    [
        ({"scope": "read-only"}, {"scope": "read-write"}, "scope"),
        ({}, {"lifetime_days": 31}, "lifetime_days"),
        ({}, {"never_expires": True}, "never_expires"),
        ({"allowed_networks": ["10.0.0.0/8"]}, {"allowed_networks": []}, None),
        (
            {"allowed_networks": ["10.0.0.0/8"]},
            {"allowed_networks": ["192.168.0.0/16"]},
            None,
        ),
    ],
)
def test_approval_never_widens(
    server: LiveServer,
    people: People,
    asked: dict[str, Any],
    approval: dict[str, Any],
    field: str | None,
) -> None:
    """An approval wider than the request in any attribute is refused, and the
    request stays pending."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice, **asked)
        answer = mgr.post(f"/manage/requests/{request['id']}/approve", json=approval)
        after = ok(alice.get("/requests"))["items"][0]

    refused(answer, 422)
    assert answer.json()["error"].get("field") == (field or "allowed_networks")
    assert after["status"] == "pending"


def test_the_request_tier_applies(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """The token policy's `request` tier limits what may be asked for, approved
    (a request filed before the policy tightened) and generated, in its words."""
    admin = setup.admin()
    with server.client(people.alice) as alice:
        earlier = ask(alice, lifetime_days=30)
    with server.client(admin) as api:
        ok(
            api.post(
                "/policies/tokens/apply",
                json={
                    "policy": {"tiers": {"request": {"max_days": 10}}},
                    "action": "keep",
                },
            )
        )
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        too_long = alice.post(
            "/requests", json={"label": "x", "reason": "y", "lifetime_days": 30}
        )
        as_asked = mgr.post(f"/manage/requests/{earlier['id']}/approve")
        shortened = ok(
            mgr.post(
                f"/manage/requests/{earlier['id']}/approve",
                json={"lifetime_days": 10},
            )
        )
        token = ok(alice.post(f"/requests/{earlier['id']}/token"), 201)["token"]

    assert "at most 10 days" in refused(too_long, 422)
    assert "at most 10 days" in refused(as_asked, 422)
    assert shortened["approved"]["lifetime_days"] == 10
    assert when(token["expires_at"]) == START + dt.timedelta(days=10)


def test_reject_needs_a_reason_and_notifies(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """A rejection without a reason is refused; with one, the requester sees it,
    and a notification is queued in the same transaction."""
    configure(setup, webhooks=[webhook("hook", "http://127.0.0.1:9/hook")])
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice)
        bare = mgr.post(f"/manage/requests/{request['id']}/reject", json={})
        blank = mgr.post(
            f"/manage/requests/{request['id']}/reject", json={"reason": "  "}
        )
        rejected = ok(
            mgr.post(
                f"/manage/requests/{request['id']}/reject",
                json={"reason": "use the shared service account"},
            )
        )
        generate = alice.post(f"/requests/{request['id']}/token")
        mine = ok(alice.get("/requests", params={"status": "rejected"}))

    refused(bare, 422)
    refused(blank, 422)
    assert rejected["status"] == "rejected"
    assert rejected["decision_reason"] == "use the shared service account"
    assert "rejected" in refused(generate, 409)
    assert [item["id"] for item in mine["items"]] == [request["id"]]
    [row] = [n for n in outbox(setup) if n.event == "request_rejected"]
    assert row.target == "hook"
    assert row.payload["request_id"] == request["id"]
    assert row.payload["reason"] == "use the shared service account"
    assert row.payload["decided_by"] == "manager"


def test_queue_and_decisions_need_manage_tokens(
    server: LiveServer, people: People
) -> None:
    """Without manage_tokens the queue, approval and rejection are refused (403)."""
    with server.client(people.alice) as alice, server.client(people.bob) as bob:
        request = ask(alice)
        answers = [
            bob.get("/manage/requests"),
            bob.post(f"/manage/requests/{request['id']}/approve"),
            bob.post(f"/manage/requests/{request['id']}/reject", json={"reason": "x"}),
        ]

    for answer in answers:
        refused(answer, 403)


def test_someone_elses_request_is_not_found(server: LiveServer, people: People) -> None:
    """Another user's request is answered exactly like a missing one."""
    with server.client(people.alice) as alice, server.client(people.bob) as bob:
        request = ask(alice)
        answers = {
            path: (
                bob.post(f"/requests/{request['id']}/{path}"),
                bob.post(f"/requests/ffffffffffffffff/{path}"),
            )
            for path in ("cancel", "token")
        }
        listed = ok(bob.get("/requests"))

    for theirs, missing in answers.values():
        assert theirs.status_code == missing.status_code == 404
        assert refused(theirs, 404).replace(request["id"], "ID") == refused(
            missing, 404
        ).replace("ffffffffffffffff", "ID")
    assert listed["items"] == []


def test_queue_filters(server: LiveServer, people: People, clock: FrozenClock) -> None:
    """The queue lists every user's requests oldest first, by status and requester."""
    with server.client(people.alice) as alice, server.client(people.bob) as bob:
        first = ask(alice)
        clock.advance(dt.timedelta(minutes=1))
        second = ask(bob)
        clock.advance(dt.timedelta(minutes=1))
        third = ask(alice, label="wiki")
        ok(alice.post(f"/requests/{third['id']}/cancel"))
    with server.client(people.manager) as mgr:
        everything = ok(mgr.get("/manage/requests"))
        alices = ok(mgr.get("/manage/requests", params={"requester": "alice"}))
        pending = ok(mgr.get("/manage/requests", params={"status": "pending"}))
        unknown = mgr.get("/manage/requests", params={"requester": "nobody"})
        bad = mgr.get("/manage/requests", params={"status": "lost"})

    def ids(page: dict[str, Any]) -> list[str]:
        return [item["id"] for item in page["items"]]

    assert ids(everything) == [first["id"], second["id"], third["id"]]
    assert ids(alices) == [first["id"], third["id"]]
    assert ids(pending) == [first["id"], second["id"]]
    refused(unknown, 404)
    assert bad.status_code == 422


def test_manager_cannot_decide_own_request(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """A token manager who may not create tokens can ask, but another manager
    must decide."""
    carol = setup.user("carol", groups=("helpdesk",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["token-managers", "helpdesk"])
    with server.client(carol) as api, server.client(people.manager) as mgr:
        request = ask(api)
        own = api.post(f"/manage/requests/{request['id']}/approve")
        other = ok(mgr.post(f"/manage/requests/{request['id']}/approve"))

    assert "your own request" in refused(own, 422)
    assert other["status"] == "approved"


def test_who_may_create_is_told_to(server: LiveServer, people: People) -> None:
    """A user who may create tokens is refused a request, with where to go."""
    with server.client(people.manager) as mgr:
        answer = mgr.post(
            "/requests", json={"label": "x", "reason": "y", "lifetime_days": 1}
        )

    assert "you may create tokens yourself" in refused(answer, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"label": "x", "reason": "y"},
        {"label": "x", "reason": "y", "lifetime_days": 3, "never_expires": True},
        {"label": "x", "lifetime_days": 3},
        {"label": "x", "reason": "y", "lifetime_days": 3, "colour": "red"},
        {"label": "x", "reason": "y", "lifetime_days": 3, "allowed_networks": ["x"]},
    ],
)
def test_bad_requests_are_refused(
    server: LiveServer, people: People, body: dict[str, Any]
) -> None:
    """A lifetime missing or given twice, no reason, an unknown field or a bad
    range is refused and nothing is stored."""
    with server.client(people.alice) as alice:
        answer = alice.post("/requests", json=body)
        mine = ok(alice.get("/requests"))

    assert answer.status_code == 422, answer.text
    assert mine["items"] == []
