"""Each permission, allowed and refused, through the API (P2)."""

from __future__ import annotations

from tests.support import LiveServer, Setup
from tokenward.policies.permissions import Permission

Call = tuple[str, str, dict[str, object] | None]
MANAGER_ONLY: list[Call] = [
    ("GET", "/manage/tokens", None),
    ("POST", "/manage/tokens", {"owner": "bob", "label": "x"}),
    ("POST", "/manage/tokens/revoke", {"owner": "bob"}),
    ("GET", "/manage/tokens/0000000000000000", None),
]
ADMIN_ONLY: list[Call] = [
    ("GET", "/users", None),
    ("POST", "/users", {"username": "carol"}),
    ("GET", "/users/alice", None),
    ("PATCH", "/users/alice", {"display_name": "Alice A."}),
    ("GET", "/groups", None),
    ("POST", "/groups", {"name": "ops"}),
    ("PUT", "/groups/staff/members/alice", None),
    ("DELETE", "/groups/staff/members/alice", None),
    ("GET", "/permissions", None),
    ("PUT", "/permissions/manage_tokens", {"groups": ["staff"]}),
]


def test_create_own_tokens_allowed_by_default(server: LiveServer, setup: Setup) -> None:
    """Out of the box any user may create tokens for themselves."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        assert api.post("/tokens", json={"label": "jira"}).status_code == 201


def test_create_own_tokens_refused_when_withdrawn(
    server: LiveServer, setup: Setup
) -> None:
    """Withdrawn from everyone, creating one's own token answers 403."""
    alice = setup.user("alice")
    admin = setup.admin()
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=[])

    with server.client(alice) as api:
        refused = api.post("/tokens", json={"label": "jira"})
        listed = api.get("/tokens")
    with server.client(admin) as api:
        allowed = api.post("/tokens", json={"label": "jira"})

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "create_own_tokens" in refused.json()["error"]["message"]
    assert listed.status_code == 200
    assert allowed.status_code == 201


def test_create_own_tokens_through_a_group(server: LiveServer, setup: Setup) -> None:
    """Granted to a group, members may create their own tokens and others may not."""
    alice = setup.user("alice", groups=("developers",))
    bob = setup.user("bob")
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["developers"])

    with server.client(alice) as api:
        assert api.post("/tokens", json={"label": "jira"}).status_code == 201
    with server.client(bob) as api:
        assert api.post("/tokens", json={"label": "jira"}).status_code == 403


def test_manage_tokens_refused_without_the_permission(
    server: LiveServer, setup: Setup
) -> None:
    """A user who may not manage tokens gets 403 from every Token Manager route."""
    alice = setup.user("alice")
    bob = setup.user("bob")

    with server.client(alice) as api:
        answers = {
            (method, path): api.request(method, path, json=body)
            for method, path, body in MANAGER_ONLY
        }

    assert {call: answer.status_code for call, answer in answers.items()} == {
        (method, path): 403 for method, path, _ in MANAGER_ONLY
    }
    assert all("manage_tokens" in answer.text for answer in answers.values())
    assert server.accepts(bob)


def test_manage_tokens_allowed_through_a_group(
    server: LiveServer, setup: Setup
) -> None:
    """Granted to a group, its members may search the tokens of every user."""
    alice = setup.user("alice", groups=("helpdesk",))
    setup.user("bob")
    setup.grant(Permission.MANAGE_TOKENS, groups=["helpdesk"])

    with server.client(alice) as api:
        answer = api.get("/manage/tokens", params={"user": "bob"})

    assert answer.status_code == 200
    assert answer.json()["total"] == 1


def test_administration_refused_to_plain_users(
    server: LiveServer, setup: Setup
) -> None:
    """Users, groups and permissions answer 403 to a user who may not administer."""
    alice = setup.user("alice", groups=("staff",))
    bob = setup.user("bob")

    with server.client(bob) as api:
        answers = {
            (method, path): api.request(method, path, json=body)
            for method, path, body in ADMIN_ONLY
        }

    assert {call: answer.status_code for call, answer in answers.items()} == {
        (method, path): 403 for method, path, _ in ADMIN_ONLY
    }
    assert all(a.json()["error"]["code"] == "forbidden" for a in answers.values())
    assert server.accepts(alice)


def test_administration_allowed_to_administrators(
    server: LiveServer, setup: Setup
) -> None:
    """Users, groups and permissions answer success to an administrator."""
    setup.user("alice", groups=("staff",))
    admin = setup.admin()

    with server.client(admin) as api:
        statuses = {
            (method, path): api.request(method, path, json=body).status_code
            for method, path, body in ADMIN_ONLY
        }

    assert statuses == {
        (method, path): 201 if method == "POST" else 200
        for method, path, _ in ADMIN_ONLY
    }


def test_administer_implies_managing_tokens(server: LiveServer, setup: Setup) -> None:
    """An administrator may use the Token Manager without being granted it."""
    setup.user("alice")
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.post("/manage/tokens", json={"owner": "alice", "label": "x"})

    assert answer.status_code == 201


def test_use_tokens_withdrawn_stops_tokens(server: LiveServer, setup: Setup) -> None:
    """Withdrawing use_tokens makes its former holders' tokens answer 401 at once."""
    alice = setup.user("alice")
    bob = setup.user("bob", groups=("integrations",))
    assert server.accepts(alice)

    setup.grant(Permission.USE_TOKENS, groups=["integrations"])

    assert not server.accepts(alice)
    assert server.accepts(bob)


def test_use_tokens_restored_revives_tokens(server: LiveServer, setup: Setup) -> None:
    """Tokens stopped by withdrawing use_tokens work again once it is granted back."""
    alice = setup.user("alice")
    setup.grant(Permission.USE_TOKENS, groups=[])
    assert not server.accepts(alice)

    setup.grant(Permission.USE_TOKENS, groups=[], everyone=True)

    assert server.accepts(alice)


def test_permissions_changed_through_the_api_are_enforced(
    server: LiveServer, setup: Setup
) -> None:
    """An administrator's change of a grant over HTTP takes effect on the next call."""
    alice = setup.user("alice", groups=("staff",))
    admin = setup.admin()

    with server.client(alice) as api:
        before = api.get("/manage/tokens").status_code
    with server.client(admin) as api:
        changed = api.put("/permissions/manage_tokens", json={"groups": ["staff"]})
    with server.client(alice) as api:
        after = api.get("/manage/tokens").status_code

    assert (before, changed.status_code, after) == (403, 200, 200)
    assert changed.json() == {
        "permission": "manage_tokens",
        "everyone": False,
        "groups": ["staff"],
    }


def test_administer_cannot_be_granted_to_nobody(
    server: LiveServer, setup: Setup
) -> None:
    """Granting administer to no group and not everyone is refused (no lock-out)."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.put("/permissions/administer", json={"groups": []})
        still = api.get("/permissions")

    assert answer.status_code == 422
    assert still.status_code == 200


def test_unknown_permission_is_refused(server: LiveServer, setup: Setup) -> None:
    """A grant of a permission that does not exist answers 422."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.put("/permissions/fly", json={"everyone": True})

    assert answer.status_code == 422
