"""Token requests through the REST API (SPEC P7): asked for, approved, generated
once by the requester, cancelled, expired; audited and notified."""

from __future__ import annotations

import datetime as dt

from tests.conftest import START
from tests.functional.notify.helpers import configure, outbox, run, webhook
from tests.functional.requests.helpers import People, ask, events, ok, refused, when
from tests.support import LiveServer, Setup
from tokenward.clock import FrozenClock


def test_request_approve_generate(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """A request approved as asked lets its requester generate the token once; the
    secret is in that answer only, and it works."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice, allowed_networks=["127.0.0.0/8"])
        queue = ok(mgr.get("/manage/requests", params={"status": "pending"}))
        approved = ok(mgr.post(f"/manage/requests/{request['id']}/approve"))
        generated = alice.post(f"/requests/{request['id']}/token")
        mine = ok(alice.get("/requests"))
        after = ok(mgr.get("/manage/requests"))
        token_seen = ok(mgr.get(f"/manage/tokens/{generated.json()['token']['id']}"))

    assert request["status"] == "pending"
    assert request["requester"] == "alice"
    assert when(request["expires_at"]) == START + dt.timedelta(days=14)
    assert [item["id"] for item in queue["items"]] == [request["id"]]
    assert approved["status"] == "approved"
    assert approved["decided_by"] == "manager"
    assert approved["approved"] == {
        "scope": "read-write",
        "lifetime_days": 30,
        "allowed_networks": ["127.0.0.0/8"],
    }
    issued = ok(generated, 201)
    assert generated.headers["cache-control"] == "no-store"
    token = issued["token"]
    assert (token["owner"], token["creator"], token["tier"]) == (
        "alice",
        "alice",
        "request",
    )
    assert token["label"] == "jira"
    assert token["allowed_networks"] == ["127.0.0.0/8"]
    assert when(token["expires_at"]) == START + dt.timedelta(days=30)
    assert [item["status"] for item in mine["items"]] == ["fulfilled"]
    assert mine["items"][0]["token_id"] == token["id"]
    secret = issued["secret"]
    assert after["items"][0]["token_id"] == token["id"]
    assert token_seen["owner"] == "alice"
    for answer in (queue, approved, mine, after, token_seen):
        assert secret not in str(answer)
    with server.client(secret) as api:
        assert api.get("/me").json()["username"] == "alice"


def test_every_step_is_audited(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """Asking, approving and generating each leave one record, the token's
    creation names the request and its approver."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice)
        ok(mgr.post(f"/manage/requests/{request['id']}/approve", json={}))
        token = ok(alice.post(f"/requests/{request['id']}/token"), 201)["token"]
        other = ask(alice, label="wiki")
        ok(alice.post(f"/requests/{other['id']}/cancel"))
        third = ask(alice, label="bitbucket")
        ok(mgr.post(f"/manage/requests/{third['id']}/reject", json={"reason": "no"}))

    assert events(setup, request["id"]) == [
        ("token_requested", "alice"),
        ("token_request_approved", "manager"),
        ("token_created", "alice"),
        ("token_request_fulfilled", "alice"),
    ]
    assert events(setup, other["id"]) == [
        ("token_requested", "alice"),
        ("token_request_cancelled", "alice"),
    ]
    assert events(setup, third["id"]) == [
        ("token_requested", "alice"),
        ("token_request_rejected", "manager"),
    ]
    [created] = [r for r in setup.audit_trail() if r.token_id == token["id"]]
    assert created.details["approved_by"] == "manager"
    assert created.subject == "alice"


def test_approval_notifies_without_a_secret(
    server: LiveServer, setup: Setup, people: People
) -> None:
    """The approval's notification says what was approved and when it lapses; the
    secret, generated later, is never in it."""
    configure(setup, webhooks=[webhook("hook", "http://127.0.0.1:9/hook")])
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice)
        ok(mgr.post(f"/manage/requests/{request['id']}/approve"))
        secret = ok(alice.post(f"/requests/{request['id']}/token"), 201)["secret"]

    rows = [n for n in outbox(setup) if n.event.startswith("request_")]
    assert [n.event for n in rows] == ["request_approved"]
    assert rows[0].payload["lifetime_days"] == 30
    assert (
        rows[0].payload["generate_before"]
        == (START + dt.timedelta(days=14)).isoformat()
    )
    assert secret not in str([n.payload for n in outbox(setup)])


def test_cancel(server: LiveServer, setup: Setup, people: People) -> None:
    """A requester may withdraw a request; it can then be neither decided nor
    generated, nor cancelled again."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice)
        cancelled = ok(alice.post(f"/requests/{request['id']}/cancel"))
        again = alice.post(f"/requests/{request['id']}/cancel")
        approve = mgr.post(f"/manage/requests/{request['id']}/approve")
        generate = alice.post(f"/requests/{request['id']}/token")

    assert cancelled["status"] == "cancelled"
    assert when(cancelled["closed_at"]) == START
    assert "cancelled" in refused(again, 409)
    assert "cancelled" in refused(approve, 409)
    assert "cancelled" in refused(generate, 409)


def test_generated_once(server: LiveServer, setup: Setup, people: People) -> None:
    """A second generation is refused and names the token the first one made."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        request = ask(alice)
        ok(mgr.post(f"/manage/requests/{request['id']}/approve"))
        first = ok(alice.post(f"/requests/{request['id']}/token"), 201)
        second = alice.post(f"/requests/{request['id']}/token")
        tokens = ok(alice.get("/tokens"))

    message = refused(second, 409)
    assert "fulfilled" in message
    assert first["token"]["id"] in message
    assert "secret" not in second.text
    assert [t["label"] for t in tokens["items"]] == ["jira", "alice-setup"]


def test_pending_cannot_be_generated(server: LiveServer, people: People) -> None:
    """Before a decision there is nothing to generate."""
    with server.client(people.alice) as alice:
        request = ask(alice)
        answer = alice.post(f"/requests/{request['id']}/token")

    assert "pending" in refused(answer, 409)


def test_requests_expire(
    server: LiveServer, setup: Setup, people: People, clock: FrozenClock
) -> None:
    """A request undecided, or approved and not generated, within the TTL expires:
    the job records it once, and it can no longer be decided or generated."""
    with server.client(people.alice) as alice, server.client(people.manager) as mgr:
        waiting = ask(alice)
        clock.advance(dt.timedelta(days=10))
        approved = ask(alice, label="wiki")
        ok(mgr.post(f"/manage/requests/{approved['id']}/approve"))
        clock.advance(dt.timedelta(days=5))
        before_job = ok(alice.get("/requests", params={"status": "expired"}))
        late = mgr.post(f"/manage/requests/{waiting['id']}/approve")
        first = run(setup, "expire-token-requests")
        clock.advance(dt.timedelta(days=10))
        second = run(setup, "expire-token-requests")
        third = run(setup, "expire-token-requests")
        generate = alice.post(f"/requests/{approved['id']}/token")
        mine = ok(alice.get("/requests"))

    assert [item["id"] for item in before_job["items"]] == [waiting["id"]]
    assert "expired" in refused(late, 409)
    assert [r.summary for r in (first, second, third)] == [
        {"expired": 1},
        {"expired": 1},
        {"expired": 0},
    ]
    assert "expired" in refused(generate, 409)
    assert [item["status"] for item in mine["items"]] == ["expired", "expired"]
    expired = [r for r in setup.audit_trail() if r.event == "token_request_expired"]
    assert [(r.details["request_id"], r.details["was"], r.actor) for r in expired] == [
        (waiting["id"], "pending", None),
        (approved["id"], "approved", None),
    ]
