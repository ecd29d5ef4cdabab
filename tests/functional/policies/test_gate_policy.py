"""The gate policy through the REST API: read, replaced whole, validated, audited."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import LiveServer, Setup
from tokenward.policies.documents import ALL_PRESETS

POLICY = {
    # The API applies the policy's networks too: the test client stays within them.
    "allowed_networks": ["10.0.0.0/8", "127.0.0.0/8", "::1/128", "2001:db8::/32"],
    "passwords": "deny",
    "password_exempt_users": ["jira-service"],
    "password_exempt_groups": ["legacy"],
    "password_exempt_paths": ["/rest/legacy/**"],
    "password_exempt_networks": ["192.0.2.0/24"],
    "token_only_paths": ["/rest/api/**"],
    "read_only_presets": ["jira", "git"],
    "read_only_rules": [
        {"methods": ["post"], "path": "/rest/reports/*/run", "read": True}
    ],
}


def test_defaults_before_any_change(server: LiveServer, setup: Setup) -> None:
    """Until one is saved, the policy answered is the documented default."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.get("/policies/gate")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "allowed_networks": [],
        "passwords": "allow",
        "password_exempt_users": [],
        "password_exempt_groups": [],
        "password_exempt_paths": [],
        "password_exempt_networks": [],
        "token_only_paths": [],
        "read_only_presets": list(ALL_PRESETS),
        "read_only_rules": [],
    }


def test_replace_then_read_back(server: LiveServer, setup: Setup) -> None:
    """A saved policy is answered back normalised: methods upper-cased, query unset."""
    admin = setup.admin()

    with server.client(admin) as api:
        saved = api.put("/policies/gate", json=POLICY)
        read = api.get("/policies/gate")

    expected: dict[str, Any] = {
        **POLICY,
        "read_only_rules": [
            {
                "methods": ["POST"],
                "path": "/rest/reports/*/run",
                "read": True,
                "query": None,
            }
        ],
    }
    assert saved.status_code == 200, saved.text
    assert saved.json() == expected
    assert read.json() == expected


def test_replacing_is_whole(server: LiveServer, setup: Setup) -> None:
    """Fields left out of a replacement go back to their defaults."""
    admin = setup.admin()

    with server.client(admin) as api:
        api.put("/policies/gate", json=POLICY)
        api.put("/policies/gate", json={"passwords": "deny"})
        read = api.get("/policies/gate").json()

    assert read["passwords"] == "deny"
    assert read["allowed_networks"] == []
    assert read["read_only_presets"] == list(ALL_PRESETS)


def test_change_is_audited_with_before_and_after(
    server: LiveServer, setup: Setup
) -> None:
    """A replacement records who changed the policy, from what, to what."""
    admin = setup.admin()

    with server.client(admin) as api:
        api.put("/policies/gate", json={"passwords": "deny"})
        api.put("/policies/gate", json={"passwords": "allow"})

    changes = [r for r in setup.audit_trail() if r.event == "policy_changed"]
    assert [r.details["version"] for r in changes] == [1, 2]
    last = changes[-1]
    assert last.actor == "admin"
    assert last.details["policy"] == "gate"
    assert last.details["before"]["passwords"] == "deny"
    assert last.details["after"]["passwords"] == "allow"
    assert (last.method, last.path) == ("PUT", "/api/v1/policies/gate")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"allowed_networks": ["10.0.0.1/8"]}, "allowed_networks", "host bits"),
        ({"allowed_networks": ["intranet"]}, "allowed_networks", "intranet"),
        (
            {"password_exempt_networks": ["300.1.2.3"]},
            "password_exempt_networks",
            "300.1.2.3",
        ),
        ({"token_only_paths": ["rest/**"]}, "token_only_paths", "starts with /"),
        ({"password_exempt_paths": ["*.json"]}, "password_exempt_paths", "with /"),
        ({"passwords": "sometimes"}, "passwords", "allow"),
        ({"read_only_presets": ["gitlab"]}, "read_only_presets.0", "jira"),
        (
            {"read_only_rules": [{"methods": ["FETCH"], "path": "/x"}]},
            "read_only_rules.0.methods",
            "FETCH",
        ),
        (
            {"read_only_rules": [{"methods": [], "path": "/x"}]},
            "read_only_rules.0.methods",
            "at least 1",
        ),
        (
            {"read_only_rules": [{"methods": ["POST"], "path": "x"}]},
            "read_only_rules.0.path",
            "starts with /",
        ),
        ({"frobnicate": True}, "frobnicate", "not permitted"),
        (
            {"read_only_rules": [{"methods": ["POST"], "path": "/x", "extra": 1}]},
            "read_only_rules.0.extra",
            "not permitted",
        ),
    ],
)
def test_invalid_policy_refused(
    server: LiveServer, setup: Setup, body: dict[str, Any], field: str, words: str
) -> None:
    """An invalid document is refused with 422 naming the field, and nothing changes."""
    admin = setup.admin()

    with server.client(admin) as api:
        api.put("/policies/gate", json=POLICY)
        refused = api.put("/policies/gate", json=body)
        after = api.get("/policies/gate").json()

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in [problem["field"] for problem in error["problems"]]
    assert words in error["message"]
    assert after["passwords"] == "deny"
    assert after["allowed_networks"] == POLICY["allowed_networks"]


def test_not_a_json_object_refused(server: LiveServer, setup: Setup) -> None:
    """A body that is not a JSON object is refused with 422."""
    admin = setup.admin()

    with server.client(admin) as api:
        refused = api.put(
            "/policies/gate",
            content=b"passwords=deny",
            headers={"Content-Type": "application/json"},
        )

    assert refused.status_code == 422


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_only_administrators(server: LiveServer, setup: Setup, method: str) -> None:
    """A user without the administer permission gets 403, and no token gets 401."""
    alice = setup.user("alice")

    with server.client(alice) as api:
        forbidden = api.request(method, "/policies/gate", json={"passwords": "deny"})
    with server.client() as api:
        anonymous = api.request(method, "/policies/gate", json={"passwords": "deny"})

    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert anonymous.status_code == 401
    assert "WWW-Authenticate" in anonymous.headers
    assert not [r for r in setup.audit_trail() if r.event == "policy_changed"]


def test_openapi_describes_the_routes(server: LiveServer) -> None:
    """The OpenAPI document offers both routes with the policy schema and its fields."""
    with server.client() as api:
        document = api.get("/openapi.json").json()

    operations = document["paths"]["/api/v1/policies/gate"]
    assert set(operations) == {"get", "put"}
    assert operations["put"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ].endswith("/GatePolicyDocument")
    assert "422" in operations["put"]["responses"]
    assert "policies" in operations["get"]["tags"]
    schema = document["components"]["schemas"]["GatePolicyDocument"]
    assert schema["additionalProperties"] is False
    assert "description" in schema["properties"]["allowed_networks"]
