"""Tightening a policy through the REST API (SPEC P3, P5, P6): the dry run says
exactly which active tokens break it and whose; saving keeps, shortens or revokes
them, audited with the policy change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.functional.notify.helpers import configure, outbox, webhook
from tests.support import LiveServer, Setup, start_server
from tokenward.audit.models import AuditRecord
from tokenward.clock import FrozenClock
from tokenward.config import Settings

MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


@pytest.fixture
def admin(setup: Setup) -> str:
    """An administrator's token that no policy in these tests breaks."""
    setup.admin()

    return setup.token("admin", label="admin-forever", never_expires=True)


def own_token(server: LiveServer, token: str, **body: Any) -> dict[str, Any]:
    """Create a token for oneself (the self tier), a minute after the last one."""
    clock = server.container.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(MINUTE)
    with server.client(token) as api:
        answer = api.post("/tokens", json={"label": "jira", **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()

    return created


def impact(api: httpx.Client, policy: dict[str, Any], **params: Any) -> dict[str, Any]:
    answer = api.post("/policies/tokens/impact", json=policy, params=params)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()

    return report


def apply(api: httpx.Client, policy: dict[str, Any], action: str, **more: Any) -> Any:
    answer = api.post(
        "/policies/tokens/apply", json={"policy": policy, "action": action, **more}
    )
    assert answer.status_code == 200, answer.text

    return answer.json()


def breaking(report: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Owner -> token id -> reasons, from one page of a report."""
    return {
        owner["owner"]: {token["id"]: token["reasons"] for token in owner["items"]}
        for owner in report["items"]
    }


def token_state(api: httpx.Client, token_id: str) -> dict[str, Any]:
    answer = api.get(f"/manage/tokens/{token_id}")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()

    return state


def events(setup: Setup, *names: str) -> list[AuditRecord]:
    return [record for record in setup.audit_trail() if record.event in names]


SELF_90 = {"tiers": {"self": {"max_days": 90}}}


def test_dry_run_lifetimes(server: LiveServer, setup: Setup, admin: str) -> None:
    """The dry run counts the breaking tokens and their owners exactly, names each
    with its reasons, and saves nothing."""
    alice = setup.user("alice")
    bob = setup.user("bob")
    carol = setup.user("carol")
    a1 = own_token(server, alice, expires_in_days=200)["token"]["id"]
    a2 = own_token(server, alice, never_expires=True)["token"]["id"]
    own_token(server, alice, expires_in_days=90)
    b1 = own_token(server, bob, expires_in_days=91)["token"]["id"]
    own_token(server, carol, expires_in_days=10)

    with server.client(admin) as api:
        report = impact(api, SELF_90)
        policy = api.get("/policies/tokens").json()

    assert (report["tokens"], report["owners"]) == (3, 2)
    assert report["by_reason"] == {"lifetime": 2, "never_expires": 1}
    assert breaking(report) == {
        "alice": {a1: ["lifetime"], a2: ["never_expires"]},
        "bob": {b1: ["lifetime"]},
    }
    assert [owner["tokens"] for owner in report["items"]] == [2, 1]
    assert policy["tiers"]["self"]["max_days"] is None
    assert not events(setup, "policy_changed")


def test_dry_run_pages_by_owner(server: LiveServer, setup: Setup, admin: str) -> None:
    """Owners come by username, `limit` and `offset` at a time; totals stay whole."""
    tokens = {}
    for name in ("dave", "alice", "carol", "bob"):
        secret = setup.user(name)
        tokens[name] = own_token(server, secret, never_expires=True)["token"]["id"]

    with server.client(admin) as api:
        first = impact(api, SELF_90, limit=2)
        second = impact(api, SELF_90, limit=2, offset=2)
        past = impact(api, SELF_90, limit=2, offset=4)

    assert [owner["owner"] for owner in first["items"]] == ["alice", "bob"]
    assert [owner["owner"] for owner in second["items"]] == ["carol", "dave"]
    assert second["items"][1]["items"][0]["id"] == tokens["dave"]
    assert past["items"] == []
    assert {report["tokens"] for report in (first, second, past)} == {4}
    assert {report["owners"] for report in (first, second, past)} == {4}


def test_dry_run_scope_and_count(server: LiveServer, setup: Setup, admin: str) -> None:
    """Forcing read-only breaks read-write tokens people made for themselves; over
    the count, the tokens counted over are the breaking ones first."""
    alice = setup.user("alice")  # a read-write token a manager created: kept
    rw1 = own_token(server, alice, scope="read-write")["token"]["id"]
    ro = own_token(server, alice, scope="read-only")["token"]["id"]
    rw2 = own_token(server, alice, scope="read-write")["token"]["id"]

    with server.client(admin) as api:
        report = impact(
            api, {"force_read_only_for_self": True, "max_active_tokens_per_user": 2}
        )

    assert breaking(report) == {
        "alice": {rw1: ["read_write", "count"], rw2: ["read_write", "count"]}
    }
    assert report["by_reason"] == {"read_write": 2, "count": 2}
    assert ro not in str(report)


def test_count_keeps_the_most_recently_used(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """Over the count, the tokens kept are those used most recently, then the
    newest never used; the rest are reported."""
    setup.admin()
    admin = setup.token("admin", label="admin-forever", never_expires=True)
    alice = setup.user("alice")  # "alice-setup", the oldest, never used
    with start_server(settings, clock) as server:
        first = own_token(server, alice, label="first")
        own_token(server, alice, label="second")
        own_token(server, alice, label="third")
        with httpx.Client(base_url=server.url, timeout=10) as gate:
            used = gate.get(
                "/auth/forward",
                headers={
                    "Authorization": f"Bearer {first['secret']}",
                    "X-Forwarded-Method": "GET",
                    "X-Forwarded-Uri": "/rest/api/2/myself",
                },
            )
        assert used.status_code == 200, used.text
    # The server has stopped, and written the use down as it did.

    with start_server(settings, clock) as server, server.client(admin) as api:
        report = impact(api, {"max_active_tokens_per_user": 2})
        first_state = token_state(api, first["token"]["id"])

    assert first_state["last_used_at"] is not None
    [owner] = report["items"]
    assert owner["owner"] == "alice"
    assert {token["label"]: token["reasons"] for token in owner["items"]} == {
        "alice-setup": ["count"],
        "second": ["count"],
    }


def test_put_refuses_a_policy_that_breaks_tokens(
    server: LiveServer, setup: Setup, admin: str
) -> None:
    """PUT saves nothing when the policy would newly break active tokens; once it
    is applied with keep, changes that break no further token are saved, and one
    that breaks another is refused."""
    alice = setup.user("alice")
    own_token(server, alice, expires_in_days=200)
    own_token(server, alice, expires_in_days=30)

    with server.client(admin) as api:
        refused = api.put("/policies/tokens", json=SELF_90)
        kept = apply(api, SELF_90, "keep")
        later = api.put("/policies/tokens", json={**SELF_90, "inactivity_days": 365})
        stricter = api.put(
            "/policies/tokens", json={"tiers": {"self": {"max_days": 1}}}
        )

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["message"] == (
        "1 active token of 1 user would break this policy; look at its impact "
        "first, then apply it with an action: keep, shorten or revoke"
    )
    assert kept["tokens"] == 1
    assert later.status_code == 200, later.text
    assert stricter.status_code == 409, stricter.text
    assert [r.details["version"] for r in events(setup, "policy_changed")] == [1, 2]


def test_apply_keep(server: LiveServer, setup: Setup, admin: str) -> None:
    """keep saves the policy and leaves the breaking tokens as they were; the audit
    record counts them."""
    alice = setup.user("alice")
    token = own_token(server, alice, expires_in_days=200)["token"]

    with server.client(admin) as api:
        applied = apply(api, SELF_90, "keep")
        after = token_state(api, token["id"])
        policy = api.get("/policies/tokens").json()

    assert applied["action"] == "keep"
    assert (applied["tokens"], applied["owners"]) == (1, 1)
    assert applied["shortened"] == applied["revoked"] == []
    assert after["expires_at"] == token["expires_at"]
    assert after["status"] == "active"
    assert policy["tiers"]["self"]["max_days"] == 90
    [change] = events(setup, "policy_changed")
    assert change.details["action"] == "keep"
    assert change.details["breaking_tokens"] == 1
    assert change.details["breaking_by_reason"] == {"lifetime": 1}
    assert change.path == "/api/v1/policies/tokens/apply"
    assert not events(setup, "token_shortened", "token_revoked")


def test_apply_shorten(server: LiveServer, setup: Setup, admin: str) -> None:
    """shorten ends a token at creation plus the new maximum, or after the grace
    period if that is past or the breach is not its lifetime; each is audited, and
    the gate refuses it from its new end."""
    clock = setup.clock
    alice = setup.user("alice")
    old = own_token(server, alice, expires_in_days=200, scope="read-only")
    never = own_token(server, alice, never_expires=True, scope="read-only")
    clock.advance(60 * DAY)
    recent = own_token(server, alice, expires_in_days=200, scope="read-only")
    writer = own_token(server, alice, expires_in_days=60, scope="read-write")
    clock.advance(35 * DAY)
    now = clock.now()
    policy = {**SELF_90, "force_read_only_for_self": True}

    with server.client(admin) as api:
        dry = impact(api, policy, grace_days=3)
        applied = apply(api, policy, "shorten", grace_days=3)
        states = {
            name: token_state(api, token["token"]["id"])
            for name, token in (("old", old), ("never", never), ("recent", recent))
        }
        states["writer"] = token_state(api, writer["token"]["id"])

    ends = {
        name: dt.datetime.fromisoformat(s["expires_at"]) for name, s in states.items()
    }
    assert ends == {
        "old": now + 3 * DAY,  # START + 90 days is past
        "never": now + 3 * DAY,
        "recent": dt.datetime.fromisoformat(recent["token"]["created_at"]) + 90 * DAY,
        "writer": now + 3 * DAY,  # read-write where read-only is forced
    }
    previews = {
        token["id"]: dt.datetime.fromisoformat(token["shortened_expiry"])
        for owner in dry["items"]
        for token in owner["items"]
    }
    assert previews == {states[name]["id"]: end for name, end in ends.items()}
    assert set(applied["shortened"]) == set(previews)
    shortened = events(setup, "policy_changed", "token_shortened")
    assert [record.event for record in shortened] == ["policy_changed"] + [
        "token_shortened"
    ] * 4
    record = next(r for r in shortened if r.token_id == states["recent"]["id"])
    assert (record.actor, record.subject, record.reason) == ("admin", "alice", "policy")
    assert record.details["breaches"] == ["lifetime"]
    before = dt.datetime.fromisoformat(record.details["expires_at_before"])
    assert before == dt.datetime.fromisoformat(recent["token"]["expires_at"])
    assert dt.datetime.fromisoformat(record.details["expires_at"]) == ends["recent"]
    assert shortened[0].details["shortened"] == 4
    assert server.accepts(writer["secret"])
    clock.advance(3 * DAY)
    assert not server.accepts(writer["secret"])
    assert server.accepts(recent["secret"])


def test_apply_revoke(server: LiveServer, setup: Setup, admin: str) -> None:
    """revoke revokes every breaking token at once, audited with reason "policy";
    a token that is only inactive is left to the inactivity run."""
    alice = setup.user("alice")
    long = own_token(server, alice, expires_in_days=200)
    fine = own_token(server, alice, expires_in_days=30)
    setup.clock.advance(20 * DAY)
    policy = {**SELF_90, "inactivity_days": 10}

    with server.client(admin) as api:
        dry = impact(api, policy)
        applied = apply(api, policy, "revoke")
        state = token_state(api, long["token"]["id"])

    assert breaking(dry)["alice"][long["token"]["id"]] == ["lifetime", "inactive"]
    assert breaking(dry)["alice"][fine["token"]["id"]] == ["inactive"]
    assert applied["revoked"] == [long["token"]["id"]]
    assert (state["status"], state["revoked_by"]) == ("revoked", "admin")
    assert state["revocation_reason"] == "policy"
    assert not server.accepts(long["secret"])
    assert server.accepts(fine["secret"])
    [revoked] = events(setup, "token_revoked")
    assert (revoked.token_id, revoked.subject, revoked.reason) == (
        long["token"]["id"],
        "alice",
        "policy",
    )
    assert revoked.details == {"reason": "policy", "breaches": ["lifetime", "inactive"]}


def test_apply_refuses_bad_input(server: LiveServer, setup: Setup, admin: str) -> None:
    """An unknown action, a grace period out of range or a missing action save
    nothing."""
    with server.client(admin) as api:
        answers = [
            api.post("/policies/tokens/apply", json={"policy": {}, "action": "ban"}),
            api.post(
                "/policies/tokens/apply",
                json={"policy": {}, "action": "shorten", "grace_days": 91},
            ),
            api.post("/policies/tokens/apply", json={"policy": {}}),
        ]

    assert [answer.status_code for answer in answers] == [422] * 3
    assert not events(setup, "policy_changed")


def test_gate_impact(server: LiveServer, setup: Setup, admin: str) -> None:
    """A candidate gate policy reports the tokens whose own ranges would fall
    outside its networks, and whether any range is left; nothing is saved."""
    alice = setup.user("alice")
    bob = setup.user("bob")
    own_token(server, alice, allowed_networks=["10.1.0.0/16"])
    part = own_token(server, alice, allowed_networks=["10.1.0.0/16", "192.0.2.0/24"])
    gone = own_token(server, bob, allowed_networks=["192.0.2.0/24", "2001:db8::/32"])
    own_token(server, bob)
    candidate = {"allowed_networks": ["127.0.0.0/8", "10.0.0.0/8"]}

    with server.client(admin) as api:
        answer = api.post("/policies/gate/impact", json=candidate)
        paged = api.post("/policies/gate/impact", json=candidate, params={"offset": 1})
        anywhere = api.post("/policies/gate/impact", json={})
        gate = api.get("/policies/gate").json()

    report = answer.json()
    assert answer.status_code == 200, answer.text
    assert (report["tokens"], report["owners"]) == (2, 2)
    assert report["by_reason"] == {"networks": 2}
    [alice_part] = report["items"][0]["items"]
    [bob_gone] = report["items"][1]["items"]
    assert (alice_part["id"], alice_part["outside_networks"]) == (
        part["token"]["id"],
        ["192.0.2.0/24"],
    )
    assert not alice_part["stranded"]
    assert (bob_gone["id"], bob_gone["stranded"]) == (gone["token"]["id"], True)
    assert bob_gone["outside_networks"] == ["192.0.2.0/24", "2001:db8::/32"]
    assert [owner["owner"] for owner in paged.json()["items"]] == ["bob"]
    assert anywhere.json()["tokens"] == 0
    assert gate["allowed_networks"] == []


def test_owners_hear_of_a_policy_revocation(
    server: LiveServer, setup: Setup, admin: str
) -> None:
    """A token revoked by a policy is told to its owner, as any revocation by
    someone else is (a notification queued in the same transaction)."""
    alice = setup.user("alice")
    long = own_token(server, alice, expires_in_days=200)["token"]
    configure(
        setup,
        webhooks=[
            webhook("siem", "http://127.0.0.1:9/hook", events=["token_revoked_for_you"])
        ],
    )

    with server.client(admin) as api:
        apply(api, SELF_90, "revoke")

    [notice] = outbox(setup)
    assert notice.event == "token_revoked_for_you"
    assert notice.payload["token_id"] == long["id"]
    assert notice.payload["reason"] == "policy"
