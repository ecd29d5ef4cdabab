"""My tokens: create, see the secret once, revoke, rotate; over real HTTP."""

from __future__ import annotations

import re

from tests.functional.ui.browser import WebClient
from tests.support import LiveServer, Setup
from tokenward.policies.permissions import Permission

_SECRET = re.compile(r'<code id="secret" class="secret">([^<]+)</code>')


def signed_in(server: LiveServer, setup: Setup, name: str = "alice") -> WebClient:
    setup.user(name)
    web = WebClient(server.url)
    web.sign_in(name, setup.password(name))
    return web


def test_a_new_token_is_shown_once_and_works(server: LiveServer, setup: Setup) -> None:
    with signed_in(server, setup) as web:
        web.get("/tokens")
        created = web.post(
            "/tokens",
            {"label": "reporting", "scope": "read-only", "days": "30"},
        )
        listing = web.get("/tokens")

    secret = _SECRET.search(created.text)
    assert secret is not None
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert f"Authorization: Bearer {secret.group(1)}" in created.text
    assert f"alice:{secret.group(1)}" in created.text
    assert server.accepts(secret.group(1))
    # The list names the token but never shows its secret again.
    assert ">reporting</a>" in listing.text
    assert secret.group(1) not in listing.text
    assert "read-only" in listing.text


def test_bad_input_keeps_what_was_typed(server: LiveServer, setup: Setup) -> None:
    with signed_in(server, setup) as web:
        web.get("/tokens")
        answer = web.post(
            "/tokens",
            {
                "label": "nightly <b>build</b>",
                "days": "ten",
                "networks": "10.0.0.0/8",
            },
        )
        bad_range = web.post("/tokens", {"label": "ranges", "networks": "not-a-range"})

    assert answer.status_code == 422
    assert "whole number of days" in answer.text
    assert 'value="nightly &lt;b&gt;build&lt;/b&gt;"' in answer.text
    assert "10.0.0.0/8</textarea>" in answer.text
    assert bad_range.status_code == 422
    assert "not-a-range" in bad_range.text


def test_revoke_stops_the_token(server: LiveServer, setup: Setup) -> None:
    with signed_in(server, setup) as web:
        web.get("/tokens")
        created = web.post("/tokens", {"label": "short-lived"})
        secret = _SECRET.search(created.text)
        assert secret is not None
        listing = web.get("/tokens")
        token_id = re.search(r'href="/tokens/([0-9a-f]{16})">short-lived', listing.text)
        assert token_id is not None
        revoked = web.post(f"/tokens/{token_id.group(1)}/revoke", {"reason": "done"})
        after = web.get("/tokens?done=revoked")

    assert revoked.status_code == 303
    assert not server.accepts(secret.group(1))
    assert "The token is revoked" in after.text


def test_rotate_shows_a_new_secret_and_retires_the_old(
    server: LiveServer, setup: Setup
) -> None:
    with signed_in(server, setup) as web:
        web.get("/tokens")
        first = _SECRET.search(web.post("/tokens", {"label": "ci"}).text)
        assert first is not None
        listing = web.get("/tokens")
        token_id = re.search(r'href="/tokens/([0-9a-f]{16})">ci<', listing.text)
        assert token_id is not None
        web.get(f"/tokens/{token_id.group(1)}")
        rotated = web.post(f"/tokens/{token_id.group(1)}/rotate", {"grace_hours": "0"})

    second = _SECRET.search(rotated.text)
    assert second is not None
    assert second.group(1) != first.group(1)
    assert server.accepts(second.group(1))
    assert not server.accepts(first.group(1))


def test_someone_elses_token_is_not_found(server: LiveServer, setup: Setup) -> None:
    setup.user("bob")
    bobs = setup.issue("bob", label="bob's").token.id

    with signed_in(server, setup) as web:
        web.get("/tokens")
        seen = web.get(f"/tokens/{bobs}")
        revoke = web.post(f"/tokens/{bobs}/revoke")

    assert seen.status_code == 404
    assert revoke.status_code == 404
    assert "bob&#39;s" not in seen.text


def test_who_may_not_create_is_pointed_to_a_request(
    server: LiveServer, setup: Setup
) -> None:
    setup.admin()
    setup.grant(
        Permission.CREATE_OWN_TOKENS, groups=["tokenward-admins"], everyone=False
    )

    with signed_in(server, setup) as web:
        page = web.get("/tokens")
        refused = web.post("/tokens", {"label": "sneaky"})

    assert "Request one" in page.text
    assert 'action="/tokens"' not in page.text
    assert refused.status_code == 403


def test_the_api_takes_a_session_with_its_csrf_header(
    server: LiveServer, setup: Setup
) -> None:
    """SPEC I2: the REST API is also open to a UI session; its changes need the
    session's CSRF token in X-CSRF-Token, so another site cannot make them."""
    with signed_in(server, setup) as web:
        web.get("/tokens")
        me = web.http.get("/api/v1/me")
        forged = web.http.post("/api/v1/tokens", json={"label": "from-a-session"})
        made = web.http.post(
            "/api/v1/tokens",
            json={"label": "from-a-session"},
            headers={"X-CSRF-Token": web.csrf or ""},
        )
        web.post("/signout")
        ended = web.http.get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert forged.status_code == 403
    assert made.status_code == 201
    assert ended.status_code == 401
