"""The demo upstream's HTTP API, called in-process: Jira's shapes and statuses, and
what it tells a caller about itself."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from tokenward.demo import create_demo_app
from tokenward.gate.identity import IdentityHeaders

IDENTITY = {
    "X-Tokenward-User": "alice",
    "X-Tokenward-Groups": "developers,jira-users",
    "X-Tokenward-Token-Id": "4b27696026c3069b",
    "X-Tokenward-Scope": "read-only",
}


def call(method: str, path: str, *, app: Any = None, **kwargs: Any) -> httpx.Response:
    """One request to a demo app (a fresh one unless given)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app or create_demo_app())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://demo"
        ) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def test_myself_echoes_the_identity_headers() -> None:
    """The caller's name, groups, token id and scope come from identity headers."""
    answer = call("GET", "/rest/api/2/myself", headers=IDENTITY)

    assert answer.status_code == 200
    assert answer.json() == {
        "name": "alice",
        "displayName": "alice",
        "groups": ["developers", "jira-users"],
        "tokenId": "4b27696026c3069b",
        "scope": "read-only",
        "authorization": None,
    }


def test_myself_reads_configured_header_names() -> None:
    """With other identity header names, those are the ones read."""
    app = create_demo_app(IdentityHeaders(user="X-Remote-User"))

    answer = call(
        "GET", "/rest/api/2/myself", app=app, headers={"X-Remote-User": "bob"}
    )

    assert answer.json()["name"] == "bob"


def test_myself_names_the_kind_of_authorization_but_never_its_secret() -> None:
    """A Basic credential shows its username, a Bearer only its scheme."""
    basic = base64.b64encode(b"bob:hunter2").decode()

    password = call(
        "GET", "/rest/api/2/myself", headers={"Authorization": f"Basic {basic}"}
    )
    bearer = call(
        "GET", "/rest/api/2/myself", headers={"Authorization": "Bearer jira-pat-123"}
    )

    assert password.json()["authorization"] == {"scheme": "Basic", "username": "bob"}
    assert password.json()["name"] == "bob"
    assert "hunter2" not in password.text
    assert basic not in password.text
    assert bearer.json()["authorization"] == {"scheme": "Bearer"}
    assert "jira-pat-123" not in bearer.text


def test_myself_without_any_credential_is_401() -> None:
    """An anonymous caller is not authenticated, as Jira says."""
    answer = call("GET", "/rest/api/2/myself")

    assert answer.status_code == 401
    assert answer.json()["errorMessages"]


def test_an_issue_is_read_in_jira_shape() -> None:
    """GET issue answers Jira's id, key, self and fields."""
    answer = call("GET", "/rest/api/2/issue/DEMO-1")

    assert answer.status_code == 200
    issue = answer.json()
    assert issue["key"] == "DEMO-1"
    assert issue["self"] == "http://demo/rest/api/2/issue/10001"
    assert issue["fields"]["project"] == {"key": "DEMO"}
    assert issue["fields"]["created"] == "2026-01-05T09:00:00.000+0000"


def test_an_unknown_issue_is_404() -> None:
    """An issue that does not exist is 404 with Jira's error shape."""
    answer = call("GET", "/rest/api/2/issue/DEMO-404")

    assert answer.status_code == 404
    assert answer.json()["errors"] == {}


def test_create_needs_a_caller_and_valid_fields() -> None:
    """Anonymous creation is 401; bad fields are 400 naming each; good is 201."""
    app = create_demo_app()
    fields = {
        "project": {"key": "DEMO"},
        "summary": "A new one",
        "issuetype": {"name": "Task"},
    }

    anonymous = call("POST", "/rest/api/2/issue", app=app, json={"fields": fields})
    bad = call(
        "POST", "/rest/api/2/issue", app=app, headers=IDENTITY, json={"fields": {}}
    )
    created = call(
        "POST", "/rest/api/2/issue", app=app, headers=IDENTITY, json={"fields": fields}
    )
    read = call("GET", "/rest/api/2/issue/DEMO-4", app=app)

    assert anonymous.status_code == 401
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"project", "issuetype", "summary"}
    assert created.status_code == 201
    assert created.json()["key"] == "DEMO-4"
    assert read.json()["fields"]["reporter"] == {"name": "alice"}


def test_an_edit_is_204_and_shows_on_the_next_read() -> None:
    """PUT with new fields answers 204 and the issue changes."""
    app = create_demo_app()

    edited = call(
        "PUT",
        "/rest/api/2/issue/DEMO-2",
        app=app,
        headers=IDENTITY,
        json={"fields": {"summary": "Renamed"}},
    )
    read = call("GET", "/rest/api/2/issue/DEMO-2", app=app)

    assert edited.status_code == 204
    assert read.json()["fields"]["summary"] == "Renamed"


def test_search_by_post_pages_through_results() -> None:
    """POST search takes jql, startAt and maxResults, as Jira does."""
    answer = call(
        "POST",
        "/rest/api/2/search",
        json={"jql": "project = DEMO ORDER BY key DESC", "startAt": 1, "maxResults": 1},
    )

    assert answer.status_code == 200
    page = answer.json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (1, 1, 3)
    assert [issue["key"] for issue in page["issues"]] == ["DEMO-2"]


def test_search_by_get_reads_the_query_string() -> None:
    """GET search takes the same parameters from the query."""
    answer = call("GET", "/rest/api/2/search", params={"jql": "key = DEMO-3"})

    assert [issue["key"] for issue in answer.json()["issues"]] == ["DEMO-3"]


def test_a_body_that_is_not_a_json_object_is_400() -> None:
    """Malformed JSON and bad paging are refused with Jira's error shape."""
    garbage = call(
        "POST",
        "/rest/api/2/search",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    negative = call("POST", "/rest/api/2/search", json={"startAt": -1})

    assert garbage.status_code == 400
    assert garbage.json()["errorMessages"] == ["The request body is not valid JSON."]
    assert negative.status_code == 400
