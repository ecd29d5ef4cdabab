"""Users and groups through the API (P1)."""

from __future__ import annotations

from tests.support import LiveServer, Setup


def test_disabling_a_user_stops_their_tokens_at_once(
    server: LiveServer, setup: Setup
) -> None:
    """A disabled user's tokens answer 401 on the very next call."""
    alice = setup.user("alice")
    extra = setup.issue("alice", label="ci")
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.patch("/users/alice", json={"active": False})

    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False
    assert answer.json()["disabled_by"] == "admin"
    assert not server.accepts(alice)
    assert not server.accepts(extra.secret)
    assert server.accepts(admin)


def test_enabling_a_user_again_restores_their_tokens(
    server: LiveServer, setup: Setup
) -> None:
    """Tokens stopped by disabling work again once the user is enabled."""
    alice = setup.user("alice")
    admin = setup.admin()
    with server.client(admin) as api:
        api.patch("/users/alice", json={"active": False})
        enabled = api.patch("/users/alice", json={"active": True})

    assert enabled.json()["disabled_at"] is None
    assert server.accepts(alice)


def test_no_token_is_created_for_a_disabled_user(
    server: LiveServer, setup: Setup
) -> None:
    """A token manager cannot create a token for a disabled user."""
    setup.user("alice")
    admin = setup.admin()
    with server.client(admin) as api:
        api.patch("/users/alice", json={"active": False})
        answer = api.post("/manage/tokens", json={"owner": "alice", "label": "x"})

    assert answer.status_code == 422
    assert "disabled" in answer.json()["error"]["message"]


def test_administrator_cannot_disable_themselves(
    server: LiveServer, setup: Setup
) -> None:
    """Disabling oneself is refused, so an administrator cannot lock themselves out."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.patch("/users/admin", json={"active": False})

    assert answer.status_code == 422
    assert server.accepts(admin)


def test_users_and_groups_are_created_and_joined(
    server: LiveServer, setup: Setup
) -> None:
    """An administrator creates a user and a group and puts one in the other."""
    admin = setup.admin()

    with server.client(admin) as api:
        user = api.post("/users", json={"username": "carol", "email": "c@x.org"})
        group = api.post("/groups", json={"name": "ops"})
        joined = api.put("/groups/ops/members/carol")
        shown = api.get("/users/carol")

    assert (user.status_code, group.status_code, joined.status_code) == (201, 201, 200)
    assert joined.json()["members"] == ["carol"]
    assert shown.json()["groups"] == ["ops"]
    assert shown.json()["email"] == "c@x.org"


def test_duplicate_names_conflict(server: LiveServer, setup: Setup) -> None:
    """A second user or group with a taken name answers 409."""
    setup.user("alice")
    admin = setup.admin()

    with server.client(admin) as api:
        user = api.post("/users", json={"username": "alice"})
        api.post("/groups", json={"name": "ops"})
        group = api.post("/groups", json={"name": "ops"})

    assert (user.status_code, group.status_code) == (409, 409)
    assert user.json()["error"]["code"] == "conflict"


def test_bad_usernames_are_refused(server: LiveServer, setup: Setup) -> None:
    """A username that could not travel in Basic credentials is refused with 422."""
    admin = setup.admin()

    with server.client(admin) as api:
        answers = [
            api.post("/users", json={"username": name})
            for name in ("has:colon", "has space", "-dash-first", "")
        ]

    assert [answer.status_code for answer in answers] == [422] * 4


def test_me_shows_the_caller(server: LiveServer, setup: Setup) -> None:
    """/me answers the owner of the token with their groups."""
    alice = setup.user("alice", groups=("staff", "ops"))

    with server.client(alice) as api:
        me = api.get("/me").json()

    assert me["username"] == "alice"
    assert me["groups"] == ["ops", "staff"]
    assert me["active"] is True


def test_user_reads_only_themselves(server: LiveServer, setup: Setup) -> None:
    """A plain user may read their own record and not another user's."""
    alice = setup.user("alice")
    setup.user("bob")

    with server.client(alice) as api:
        own = api.get("/users/alice")
        other = api.get("/users/bob")

    assert (own.status_code, other.status_code) == (200, 403)
