"""Sign-in, sessions and the UI's safety rules, over real HTTP."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.functional.ui.browser import WebClient
from tests.support import LiveServer, Setup
from tokenward.audit.events import AuditEvent
from tokenward.clock import FrozenClock


def test_a_password_opens_a_session_and_the_pages(
    server: LiveServer, setup: Setup
) -> None:
    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        answer = web.sign_in("alice", password)
        page = web.get("/tokens")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback: auto leaves it off
    assert page.status_code == 200
    assert "My tokens" in page.text


def test_pages_without_a_session_send_the_browser_to_sign_in(
    server: LiveServer,
) -> None:
    answer = httpx.get(f"{server.url}/tokens?status=active")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Ftokens%3Fstatus%3Dactive"


def test_after_sign_in_the_browser_goes_where_it_wanted_but_only_here(
    server: LiveServer, setup: Setup
) -> None:
    setup.user("alice")
    password = setup.password("alice")
    landing = {}
    for wanted in ["/tokens", "https://evil.example/", "//evil.example/x", "/\\evil"]:
        with WebClient(server.url) as web:
            web.get("/signin")
            answer = web.post(
                "/signin", {"username": "alice", "password": password, "next": wanted}
            )
            landing[wanted] = answer.headers["location"]

    assert landing == {
        "/tokens": "/tokens",
        "https://evil.example/": "/",
        "//evil.example/x": "/",
        "/\\evil": "/",
    }


def test_a_wrong_password_or_a_token_opens_nothing(
    server: LiveServer, setup: Setup
) -> None:
    """A tokenward token is never a UI password (SPEC I1), and a failure names
    neither which part was wrong nor whether the user exists."""
    token = setup.user("alice")
    setup.password("alice")

    with WebClient(server.url) as web:
        wrong = web.sign_in("alice", "not the password at all")
        with_token = web.sign_in("alice", token)
        nobody = web.sign_in("nobody", "whatever password")
        still_out = web.get("/tokens")

    assert [wrong.status_code, with_token.status_code, nobody.status_code] == [
        401,
        401,
        401,
    ]
    assert "wrong" in wrong.text
    assert wrong.text.count("The user name or password is wrong") == 1
    assert still_out.status_code == 303
    failures = [
        record
        for record in setup.audit_trail()
        if record.event == AuditEvent.UI_SIGN_IN_FAILED
    ]
    assert [record.subject for record in failures] == ["alice", "alice", "nobody"]


def test_a_bearer_token_does_not_open_the_pages(
    server: LiveServer, setup: Setup
) -> None:
    token = setup.user("alice")

    answer = httpx.get(
        f"{server.url}/tokens", headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")


def test_sign_in_attempts_are_throttled(server: LiveServer, setup: Setup) -> None:
    """After five failures for one user name, even the right password is refused
    for a while; another user is not held back by a name's failures alone."""
    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        failures = [
            web.sign_in("alice", "wrong password!").status_code for _ in range(5)
        ]
        refused = web.sign_in("alice", password)

    assert failures == [401] * 5
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text


def test_the_throttle_lets_go_after_fifteen_minutes(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        for _ in range(5):
            web.sign_in("alice", "wrong password!")
        clock.advance(dt.timedelta(minutes=15, seconds=1))
        answer = web.sign_in("alice", password)

    assert answer.status_code == 303


def test_a_session_ends_when_idle_when_old_and_at_sign_out(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        web.sign_in("alice", password)
        clock.advance(dt.timedelta(minutes=29))
        kept = web.get("/tokens").status_code
        clock.advance(dt.timedelta(minutes=31))
        idle = web.get("/tokens").status_code

    with WebClient(server.url) as web:
        web.sign_in("alice", password)
        for _ in range(13):  # busy, but 12 hours is the most a session lives
            clock.advance(dt.timedelta(minutes=59))
            web.get("/tokens")
        old = web.get("/tokens").status_code

    with WebClient(server.url) as web:
        web.sign_in("alice", password)
        cookie = web.http.cookies["tokenward_session"]
        signed_out = web.post("/signout")
        replayed = httpx.get(
            f"{server.url}/tokens", cookies={"tokenward_session": cookie}
        )

    assert kept == 200
    assert idle == 303
    assert old == 303
    assert signed_out.headers["location"] == "/signin?done=signed_out"
    assert replayed.status_code == 303
    events = [record.event for record in setup.audit_trail()]
    assert events.count(AuditEvent.UI_SIGNED_IN) == 3
    assert events.count(AuditEvent.UI_SIGNED_OUT) == 1


def test_a_disabled_user_loses_the_session(server: LiveServer, setup: Setup) -> None:
    from tests.support import OPERATOR, ORIGIN

    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        web.sign_in("alice", password)
        setup.run(
            lambda c: c.directory.update_user(OPERATOR, ORIGIN, "alice", active=False)
        )
        answer = web.get("/tokens")

    assert answer.status_code == 303


def test_state_changes_need_the_session_csrf_token(
    server: LiveServer, setup: Setup
) -> None:
    setup.user("alice")
    password = setup.password("alice")

    with WebClient(server.url) as web:
        web.sign_in("alice", password)
        missing = web.http.post("/tokens", data={"label": "x"})
        wrong = web.http.post("/tokens", data={"label": "x", "csrf_token": "forged"})
        cross_site = web.post(
            "/tokens", {"label": "x"}, headers={"Origin": "https://evil.example"}
        )
        fetch_cross = web.post(
            "/tokens", {"label": "x"}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        page = web.get("/tokens")

    assert [
        missing.status_code,
        wrong.status_code,
        cross_site.status_code,
        fetch_cross.status_code,
    ] == [403, 403, 403, 403]
    assert "nothing was changed" in missing.text
    assert ">x</a>" not in page.text  # no token was created
    assert ">alice-setup</a>" in page.text


def test_the_sign_in_form_refuses_a_post_from_another_site(
    server: LiveServer, setup: Setup
) -> None:
    """Login forgery: a site cannot sign a browser in as someone else."""
    setup.user("alice")
    password = setup.password("alice")

    answer = httpx.post(
        f"{server.url}/signin",
        data={"username": "alice", "password": password, "csrf_token": "x"},
        headers={"Origin": "https://evil.example"},
    )

    assert answer.status_code == 403
    assert (
        "set-cookie" not in answer.headers
        or "tokenward_session" not in (answer.headers["set-cookie"])
    )


def test_every_page_carries_the_security_headers(server: LiveServer) -> None:
    for path in ["/signin", "/nothing-here", "/static/tokenward.css"]:
        answer = httpx.get(f"{server.url}{path}")
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
    page = httpx.get(f"{server.url}/signin")
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text
    assert httpx.get(f"{server.url}/nothing-here").status_code == 404


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure(
    settings: object, setup: Setup, clock: FrozenClock
) -> None:
    from tests.support import start_server
    from tokenward.config import Settings

    assert isinstance(settings, Settings)
    trusted = settings.model_copy(update={"gate_trusted_proxies": ["127.0.0.1/32"]})
    setup.user("alice")
    password = setup.password("alice")

    with start_server(trusted, clock) as live, WebClient(live.url) as web:
        web.get("/signin")
        answer = web.post(
            "/signin",
            {"username": "alice", "password": password},
            headers={"X-Forwarded-Proto": "https"},
        )

    assert "secure" in answer.headers["set-cookie"].lower()


def test_a_new_password_ends_the_sessions_opened_with_the_old(
    server: LiveServer, setup: Setup
) -> None:
    setup.user("alice")
    old = setup.password("alice")

    with WebClient(server.url) as web:
        web.sign_in("alice", old)
        setup.password("alice", "a brand new passphrase")
        ended = web.get("/tokens")
        refused = web.sign_in("alice", old)
        accepted = web.sign_in("alice", "a brand new passphrase")

    assert ended.status_code == 303
    assert refused.status_code == 401
    assert accepted.status_code == 303
