"""State changes leave chained audit records (A1, A2, A3, A4)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.support import LiveServer, Setup
from tokenward.audit.chain import CHAINED_FIELDS, GENESIS_HASH, link
from tokenward.audit.models import AuditRecord
from tokenward.policies.permissions import Permission


def _assert_chained(records: Sequence[AuditRecord]) -> None:
    """Each record follows its predecessor and its stored hash recomputes."""
    assert records, "no audit records at all"
    previous = GENESIS_HASH
    for position, record in enumerate(records, start=1):
        assert record.seq == position
        assert record.prev_hash == previous
        fields = {name: getattr(record, name) for name in CHAINED_FIELDS}
        assert link(previous, fields) == record.hash
        previous = record.hash


def _last(setup: Setup, event: str) -> AuditRecord:
    records = setup.audit_trail()
    _assert_chained(records)
    matching = [record for record in records if record.event == event]
    assert matching, f"no {event} record among {[r.event for r in records]}"

    return matching[-1]


def test_creation_is_recorded_with_the_request(
    server: LiveServer, setup: Setup
) -> None:
    """Creating a token records who, for whom, which token and the request fields."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        created = api.post(
            "/tokens",
            json={"label": "jira", "scope": "read-only"},
            headers={"X-Request-Id": "req-create-1", "User-Agent": "audit-test/1"},
        ).json()

    record = _last(setup, "token_created")
    assert record.outcome == "success"
    assert (record.actor, record.subject) == ("alice", "alice")
    assert record.token_id == created["token"]["id"]
    assert (record.method, record.path) == ("POST", "/api/v1/tokens")
    assert record.client_ip == "127.0.0.1"
    assert record.user_agent == "audit-test/1"
    assert record.request_id == "req-create-1"
    assert record.details["label"] == "jira"
    assert record.details["scope"] == "read-only"
    assert record.occurred_at == setup.clock.now()


def test_manager_creation_names_both_people(server: LiveServer, setup: Setup) -> None:
    """A token made by a manager records the manager as actor and owner as subject."""
    setup.user("alice")
    admin = setup.admin()

    with server.client(admin) as api:
        created = api.post("/manage/tokens", json={"owner": "alice", "label": "x"})

    record = _last(setup, "token_created")
    assert (record.actor, record.subject) == ("admin", "alice")
    assert record.token_id == created.json()["token"]["id"]
    assert record.details["tier"] == "manager"


def test_revocation_is_recorded(server: LiveServer, setup: Setup) -> None:
    """Revoking a token records it with the reason given."""
    alice = setup.user("alice")
    issued = setup.issue("alice", label="jira")

    with server.client(alice) as api:
        api.post(f"/tokens/{issued.token.id}/revoke", json={"reason": "lost"})

    record = _last(setup, "token_revoked")
    assert record.token_id == issued.token.id
    assert record.actor == "alice"
    assert record.details == {"reason": "lost"}


def test_bulk_revocation_records_each_token(server: LiveServer, setup: Setup) -> None:
    """Revoking several tokens records one event per token, in one stretch of chain."""
    alice = setup.user("alice")
    issued = [setup.issue("alice", label=f"t{n}") for n in range(3)]

    with server.client(alice) as api:
        api.post("/tokens/revoke", json={"token_ids": [i.token.id for i in issued]})

    records = setup.audit_trail()
    _assert_chained(records)
    revoked = [record for record in records if record.event == "token_revoked"]
    assert {record.token_id for record in revoked} == {i.token.id for i in issued}
    assert len({record.request_id for record in revoked}) == 1


def test_refused_change_leaves_no_record(server: LiveServer, setup: Setup) -> None:
    """A change that fails writes no audit record, as it changes nothing."""
    alice = setup.user("alice")
    own = setup.issue("alice", label="own")
    setup.user("bob")
    bobs = setup.issue("bob", label="bob's")
    before = len(setup.audit_trail())

    with server.client(alice) as api:
        api.post("/tokens/revoke", json={"token_ids": [own.token.id, bobs.token.id]})
        api.post("/tokens", json={"label": "x", "allowed_networks": ["nowhere"]})

    assert len(setup.audit_trail()) == before


def test_rotation_is_recorded(server: LiveServer, setup: Setup) -> None:
    """Rotating records the old and the new token and the grace period."""
    alice = setup.user("alice")
    issued = setup.issue("alice", label="jira")

    with server.client(alice) as api:
        rotated = api.post(
            f"/tokens/{issued.token.id}/rotate", json={"grace_seconds": 600}
        ).json()

    record = _last(setup, "token_rotated")
    assert record.token_id == issued.token.id
    assert record.details == {
        "new_token_id": rotated["token"]["id"],
        "grace_seconds": 600,
    }


def test_user_changes_are_recorded(server: LiveServer, setup: Setup) -> None:
    """Changing, disabling and enabling a user each leave their own record."""
    setup.user("alice")
    admin = setup.admin()

    with server.client(admin) as api:
        api.patch("/users/alice", json={"display_name": "Alice Liddell"})
        api.patch("/users/alice", json={"active": False})
        api.patch("/users/alice", json={"active": True})

    records = setup.audit_trail()
    _assert_chained(records)
    about_alice = [
        (record.event, record.actor, record.details)
        for record in records
        if record.subject == "alice" and record.event.startswith("user_")
    ]
    assert about_alice[-3:] == [
        ("user_updated", "admin", {"display_name": "Alice Liddell"}),
        ("user_disabled", "admin", {}),
        ("user_enabled", "admin", {}),
    ]


def test_group_changes_are_recorded(server: LiveServer, setup: Setup) -> None:
    """Creating a group and adding a member are recorded."""
    setup.user("alice")
    admin = setup.admin()

    with server.client(admin) as api:
        api.post("/groups", json={"name": "ops"})
        api.put("/groups/ops/members/alice")

    created = _last(setup, "group_created")
    added = _last(setup, "group_member_added")
    assert created.details == {"group": "ops"}
    assert (added.subject, added.details) == ("alice", {"group": "ops"})


def test_permission_changes_are_recorded(server: LiveServer, setup: Setup) -> None:
    """Changing a grant over HTTP records the new and the former grant."""
    setup.user("alice", groups=("staff",))
    admin = setup.admin()

    with server.client(admin) as api:
        api.put("/permissions/manage_tokens", json={"groups": ["staff"]})

    record = _last(setup, "permission_changed")
    assert record.actor == "admin"
    assert record.details["permission"] == "manage_tokens"
    assert record.details["groups"] == ["staff"]
    assert record.details["before_everyone"] is False


def test_changes_by_the_services_are_chained_too(setup: Setup) -> None:
    """Changes made through the services directly join the same chain."""
    setup.user("alice", groups=("staff",))
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["staff"])
    setup.issue("alice", label="jira")

    records = setup.audit_trail()

    _assert_chained(records)
    assert [record.event for record in records] == [
        "user_created",
        "group_created",
        "group_member_added",
        "token_created",
        "permission_changed",
        "token_created",
    ]
