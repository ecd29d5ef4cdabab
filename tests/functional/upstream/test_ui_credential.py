"""My upstream credential on the My tokens page: saved once the upstream accepts
it, never shown again, checked, removed (G6, I1)."""

from __future__ import annotations

from tests.functional.ui.browser import WebClient
from tests.functional.upstream.conftest import forward_auth, new_pat
from tests.functional.upstream.fake_jira import FakeJira
from tests.support import LiveServer, Setup


def test_save_check_and_remove_from_the_page(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    token = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")

    with WebClient(server.url) as web:
        web.sign_in("alice", setup.password("alice"))
        before = web.get("/tokens")
        saved = web.post("/tokens/upstream", {"scheme": "bearer", "value": pat})
        shown = web.get(saved.headers["location"])
        checked = web.post("/tokens/upstream/check")
        allowed = forward_auth(server, token)
        removed = web.post("/tokens/upstream/remove")
        after = web.get(removed.headers["location"])
        refused = forward_auth(server, token)

    assert "My upstream credential" in before.text
    assert saved.status_code == 303
    assert "saved and was accepted upstream" in shown.text
    assert "accepted as <strong>alice</strong>" in shown.text
    assert pat not in shown.text
    assert checked.headers["location"] == "/tokens?done=credential_checked"
    assert allowed.status_code == 200
    assert "Your upstream credential is removed" in after.text
    assert "Check it now" not in after.text
    assert refused.status_code == 403
    assert refused.headers["x-tokenward-reason"] == "upstream_credential_missing"


def test_a_credential_the_upstream_refuses_is_not_saved(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    setup.user("alice")
    pat = new_pat()  # not accepted by the fake Jira

    with WebClient(server.url) as web:
        web.sign_in("alice", setup.password("alice"))
        web.get("/tokens")
        answer = web.post("/tokens/upstream", {"scheme": "bearer", "value": pat})
        page = web.get("/tokens")

    assert answer.status_code == 422
    assert "HTTP 401" in answer.text
    assert pat not in answer.text
    assert "Check it now" not in page.text
