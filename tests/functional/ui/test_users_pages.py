"""The users and groups pages of the local directory, over real HTTP."""

from __future__ import annotations

from tests.functional.ui.browser import WebClient
from tests.support import OPERATOR, LiveServer, Setup
from tokenward.policies.bootstrap import ADMIN_GROUP
from tokenward.policies.permissions import Permission


def _admin_web(server: LiveServer, setup: Setup) -> WebClient:
    setup.admin()
    web = WebClient(server.url)
    web.sign_in("admin", setup.password("admin"))

    return web


def test_an_administrator_creates_a_user_who_then_signs_in(
    server: LiveServer, setup: Setup
) -> None:
    """A user created with an initial password is listed and can sign in."""
    with _admin_web(server, setup) as web:
        created = web.post(
            "/users",
            {
                "username": "dana",
                "display_name": "Dana Scully",
                "email": "dana@example.org",
                "password": "an initial password",
            },
        )
        page = web.get(created.headers["location"])
        listed = web.get("/users?search=DAN")
        others = web.get("/users?search=zzz")

    assert created.status_code == 303
    assert created.headers["location"] == "/users/dana?done=created"
    assert "The user is created." in page.text
    assert "Dana Scully" in listed.text
    assert "dana@example.org" in listed.text
    assert "Dana Scully" not in others.text
    with WebClient(server.url) as dana:
        assert dana.sign_in("dana", "an initial password").status_code == 303


def test_a_refused_user_comes_back_as_typed(server: LiveServer, setup: Setup) -> None:
    """A name that breaks the rules, or a short password, is explained and what
    was typed stays in the form; no user is created."""
    with _admin_web(server, setup) as web:
        bad_name = web.post(
            "/users", {"username": "no spaces", "display_name": "Kept Name"}
        )
        short = web.post("/users", {"username": "erin", "password": "short"})

    assert bad_name.status_code == 422
    assert "a user name is 1-255 letters" in bad_name.text
    assert 'value="no spaces"' in bad_name.text
    assert 'value="Kept Name"' in bad_name.text
    assert short.status_code == 422
    assert "at least 12 characters" in short.text
    users, _ = setup.run(lambda c: c.directory.list_users(OPERATOR, search="erin"))
    assert list(users) == []


def test_disabling_a_user_stops_their_token_and_session(
    server: LiveServer, setup: Setup
) -> None:
    """Unticking "active" ends the user's API token and web session at once."""
    token = setup.user("bob")
    password = setup.password("bob")
    with WebClient(server.url) as bob:
        bob.sign_in("bob", password)
        assert bob.get("/policies").status_code == 403  # signed in, not an admin
        with _admin_web(server, setup) as web:
            web.get("/users/bob")
            disabled = web.post(
                "/users/bob",
                {"display_name": "Bob", "email": "bob@example.org", "active": ""},
            )
            page = web.get("/users/bob")
        after = bob.get("/policies")

    assert disabled.status_code == 303
    assert "disabled" in page.text
    assert not server.accepts(token)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/signin")
    user = setup.run(lambda c: c.directory.get_user(OPERATOR, "bob"))
    assert (user.active, user.display_name, user.email) == (
        False,
        "Bob",
        "bob@example.org",
    )


def test_an_administrator_cannot_disable_themselves(
    server: LiveServer, setup: Setup
) -> None:
    """Disabling one's own account is refused with the reason, as typed."""
    with _admin_web(server, setup) as web:
        web.get("/users/admin")
        refused = web.post("/users/admin", {"display_name": "Me", "active": ""})

    assert refused.status_code == 422
    assert "you cannot disable yourself" in refused.text
    assert 'value="Me"' in refused.text


def test_a_password_set_by_an_administrator_opens_the_ui(
    server: LiveServer, setup: Setup
) -> None:
    """A new password must be typed twice alike, and then signs the user in."""
    setup.user("carol")
    with _admin_web(server, setup) as web:
        web.get("/users/carol")
        differ = web.post(
            "/users/carol/password",
            {"password": "first long password", "password_again": "other one"},
        )
        done = web.post(
            "/users/carol/password",
            {
                "password": "first long password",
                "password_again": "first long password",
            },
        )

    assert differ.status_code == 422
    assert "the two passwords differ" in differ.text
    assert done.status_code == 303
    with WebClient(server.url) as carol:
        assert carol.sign_in("carol", "first long password").status_code == 303


def test_group_membership_is_set_from_the_user_page(
    server: LiveServer, setup: Setup
) -> None:
    """The ticked groups become exactly the user's groups."""
    setup.user("dave", groups=("ops", "dev"))
    with _admin_web(server, setup) as web:
        web.get("/users/dave")
        saved = web.post("/users/dave/groups", {"groups": ["ops", ADMIN_GROUP]})

    assert saved.status_code == 303
    user = setup.run(lambda c: c.directory.get_user(OPERATOR, "dave"))
    assert sorted(group.name for group in user.groups) == ["ops", ADMIN_GROUP]


def test_groups_are_created_filled_emptied_and_deleted(
    server: LiveServer, setup: Setup
) -> None:
    """A group is created, gets a member, loses it, and is deleted after a
    confirmation page that says what it holds."""
    setup.user("erin")
    with _admin_web(server, setup) as web:
        web.get("/groups")
        created = web.post("/groups", {"name": "helpdesk", "description": "Desk"})
        unknown = web.post("/groups/helpdesk/members", {"username": "nobody"})
        added = web.post("/groups/helpdesk/members", {"username": "erin"})
        members = web.get("/groups/helpdesk").text
        removed = web.post("/groups/helpdesk/members/remove", {"username": "erin"})
        setup.grant(Permission.MANAGE_TOKENS, groups=["helpdesk"])
        confirm = web.get("/groups/helpdesk/delete")
        deleted = web.post("/groups/helpdesk/delete")
        listing = web.get(deleted.headers["location"])

    assert created.headers["location"] == "/groups/helpdesk?done=group_created"
    assert unknown.status_code == 422
    assert "user &#39;nobody&#39; not found" in unknown.text
    assert 'value="nobody"' in unknown.text
    assert added.status_code == 303
    assert "erin" in members
    assert removed.status_code == 303
    assert "manage_tokens" in confirm.text
    assert deleted.status_code == 303
    assert "The group is deleted." in listing.text
    groups = setup.run(lambda c: c.directory.list_groups(OPERATOR))
    assert "helpdesk" not in {group.name for group in groups}


def test_the_last_administrators_group_is_not_deleted(
    server: LiveServer, setup: Setup
) -> None:
    """Deleting the only group holding administer is refused on the confirmation."""
    with _admin_web(server, setup) as web:
        web.get(f"/groups/{ADMIN_GROUP}/delete")
        refused = web.post(f"/groups/{ADMIN_GROUP}/delete")

    assert refused.status_code == 422
    assert "only one holding the administer permission" in refused.text


def test_users_and_groups_are_for_administrators_only(
    server: LiveServer, setup: Setup
) -> None:
    """A signed-in user without administer gets 403 and changes nothing."""
    setup.admin()
    setup.user("bob")
    password = setup.password("bob")
    with WebClient(server.url) as web:
        web.sign_in("bob", password)
        pages = [web.get(path).status_code for path in ("/users", "/groups")]
        creating = web.post("/groups", {"name": "sneaky"})

    assert pages == [403, 403]
    assert creating.status_code == 403
    groups = setup.run(lambda c: c.directory.list_groups(OPERATOR))
    assert "sneaky" not in {group.name for group in groups}
