"""Arranging token requests and reading the API's answers, for the request tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import Setup


@dataclass(frozen=True)
class People:
    """Tokens of a token manager, and of alice and bob, who may not create tokens."""

    manager: str
    alice: str
    bob: str


def ask(api: httpx.Client, **body: Any) -> dict[str, Any]:
    """File a request for a "jira" token for 30 days; its answer."""
    body = {"label": "jira", "reason": "nightly sync", "lifetime_days": 30, **body}
    answer = api.post("/requests", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()

    return created


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()

    return body


def refused(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    message: str = answer.json()["error"]["message"]

    return message


def events(setup: Setup, request_id: str) -> list[tuple[str, str | None]]:
    """The audit records of one request: event and actor, in order."""
    return [
        (record.event, record.actor)
        for record in setup.audit_trail()
        if (record.details or {}).get("request_id") == request_id
    ]
