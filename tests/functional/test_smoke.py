"""A first end-to-end check of the API over HTTP."""

from __future__ import annotations

from tests.support import LiveServer, Setup


def test_admin_creates_and_lists_tokens(server: LiveServer, setup: Setup) -> None:
    """An administrator's token creates a token and sees it in the list."""
    admin_token = setup.admin()
    with server.client(admin_token) as api:
        created = api.post("/tokens", json={"label": "jira"})
        assert created.status_code == 201, created.text
        listed = api.get("/tokens").json()["items"]
    assert {item["label"] for item in listed} == {"admin", "jira"}
