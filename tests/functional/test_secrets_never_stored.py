"""No token secret is ever stored or logged, whichever way it was made (T2, A2, I4)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.support import (
    OPERATOR,
    ORIGIN,
    LiveServer,
    Setup,
    capture_logs,
    find_leaks,
    start_server,
    stored_bytes,
    token_fragments,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.tokens.specs import IssuedToken


@pytest.fixture
def loud_settings(settings: Settings) -> Settings:
    """The test's settings, logging everything in the production format."""
    return settings.model_copy(update={"log_level": "debug", "log_format": "json"})


def _issue_through_the_api(server: LiveServer, setup: Setup) -> dict[str, str]:
    """Tokens made by every API path, by the name of the path."""
    admin = setup.admin()
    setup.user("alice")
    made = {"admin bootstrap token": admin}
    with server.client(admin) as api:

        def secret(path: str, body: dict[str, Any] | None = None) -> str:
            answer = api.post(path, json=body)
            assert answer.status_code == 201, answer.text
            value: str = answer.json()["secret"]

            return value

        made["api self create"] = secret("/tokens", {"label": "a"})
        made["api manager create"] = secret(
            "/manage/tokens", {"owner": "alice", "label": "b"}
        )
        for grace in (0, 60):
            created = api.post("/tokens", json={"label": "c"}).json()
            rotate = f"/tokens/{created['token']['id']}/rotate"
            made[f"api rotated away (grace {grace})"] = created["secret"]
            made[f"api rotated in (grace {grace})"] = secret(
                rotate, {"grace_seconds": grace}
            )

    return made


def _issue_through_the_services(setup: Setup) -> dict[str, str]:
    """Tokens made by calling the services directly, as the CLI does."""
    setup.user("bob")
    made = {"service create": setup.token("bob", label="service create")}
    for grace in (None, dt.timedelta(minutes=5)):
        old = setup.issue("bob", label="to rotate")
        new = setup.run(_rotation(old.token.id, grace))
        made[f"service rotated away (grace {grace})"] = old.secret
        made[f"service rotated in (grace {grace})"] = new.secret

    return made


def _rotation(
    token_id: str, grace: dt.timedelta | None
) -> Callable[[Container], Coroutine[Any, Any, IssuedToken]]:
    async def work(container: Container) -> IssuedToken:
        return await container.tokens.rotate(
            OPERATOR, ORIGIN, token_id, grace=grace, managed=True
        )

    return work


def _present_each(server: LiveServer, made: dict[str, str]) -> dict[str, str]:
    """Present every secret as Bearer and as Basic; return the Basic header values."""
    headers = {}
    for name, secret in made.items():
        with server.client(secret) as api:
            owner = api.get("/me").json().get("username", "nobody")
        basic = base64.b64encode(f"{owner}:{secret}".encode()).decode()
        with server.client() as api:
            api.get("/me", headers={"Authorization": f"Basic {basic}"})
        headers[f"{name} (Basic credential)"] = basic

    return headers


def test_no_secret_is_stored_or_logged(
    loud_settings: Settings, clock: FrozenClock
) -> None:
    """Secrets made by any path appear in neither the database nor the logs."""
    setup = Setup(loud_settings, clock)
    with (
        capture_logs(loud_settings) as logs,
        start_server(loud_settings, clock, own_logging=True) as server,
    ):
        made = _issue_through_the_api(server, setup)
        made |= _issue_through_the_services(setup)
        basic_headers = _present_each(server, made)
        token_ids = [item["id"] for item in _all_tokens(server, made)]
        stored = stored_bytes(loud_settings)
    forbidden = dict(basic_headers)
    for name, secret in made.items():
        forbidden |= token_fragments(name, secret)

    leaks = find_leaks(forbidden, {"the database": stored, "the logs": logs.getvalue()})

    assert leaks == []
    # The searches can find what is there: every token id is both stored and logged.
    assert len(token_ids) >= len(made)
    assert [i for i in token_ids if i.encode() not in stored] == []
    assert [i for i in token_ids if i not in logs.getvalue()] == []
    assert '"event": "Application startup complete."' in logs.getvalue()


def _all_tokens(server: LiveServer, made: dict[str, str]) -> list[dict[str, str]]:
    with server.client(made["admin bootstrap token"]) as api:
        page = api.get("/manage/tokens", params={"limit": 500}).json()
    tokens: list[dict[str, str]] = page["items"]

    return tokens
