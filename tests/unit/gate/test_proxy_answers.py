"""What the reverse proxy answers itself, and which upstream URLs it accepts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tokenward.errors import ConfigurationError
from tokenward.gate.answers import (
    MESSAGES,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNAVAILABLE,
    send_refusal,
    send_upstream_error,
)
from tokenward.gate.decision import Denied
from tokenward.gate.proxy import upstream_base
from tokenward.gate.reasons import Reason
from tokenward.web.asgi import Message, Send

REFUSING = [reason for reason in Reason if not reason.allows]


def answer_of(
    answer: Callable[[Send], Coroutine[Any, Any, None]],
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of what `answer` sends."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(answer(send))
    start, body = sent
    headers = {name.decode(): value.decode() for name, value in start["headers"]}

    return start["status"], headers, body["body"]


@pytest.mark.parametrize("reason", REFUSING, ids=str)
def test_every_refusing_reason_has_its_own_message(reason: Reason) -> None:
    """Each refusal tells the client in words what happened."""
    assert MESSAGES[reason]
    assert MESSAGES[reason] not in (
        MESSAGES[other] for other in REFUSING if other is not reason
    )


@pytest.mark.parametrize("reason", REFUSING, ids=str)
def test_a_refusal_carries_status_code_message_and_headers(reason: Reason) -> None:
    """Status, X-Tokenward-Reason, a JSON body, and WWW-Authenticate exactly on 401."""
    status, headers, body = answer_of(
        lambda send: send_refusal(send, Denied(reason), request_id="r-1")
    )

    assert status == reason.status
    assert headers["x-tokenward-reason"] == str(reason)
    assert headers["x-request-id"] == "r-1"
    assert headers["content-length"] == str(len(body))
    assert json.loads(body) == {
        "error": {"code": str(reason), "message": MESSAGES[reason]}
    }
    assert ("www-authenticate" in headers) is (status == 401)


def test_a_rate_limit_refusal_says_when_to_retry() -> None:
    """A decision with retry_after is answered with Retry-After."""
    status, headers, _ = answer_of(
        lambda send: send_refusal(
            send, Denied(Reason.RATE_LIMITED, retry_after=60), request_id="r"
        )
    )

    assert status == 429
    assert headers["retry-after"] == "60"


@pytest.mark.parametrize(
    ("code", "status"), [(UPSTREAM_UNAVAILABLE, 502), (UPSTREAM_TIMEOUT, 504)]
)
def test_upstream_failures_have_their_own_codes(code: str, status: int) -> None:
    """502 and 504 name the proxy's own codes, which are not gate reasons."""
    answered, headers, body = answer_of(
        lambda send: send_upstream_error(send, code, request_id="r")
    )

    assert answered == status
    assert headers["x-tokenward-reason"] == code
    assert json.loads(body)["error"]["code"] == code
    assert code not in {str(reason) for reason in Reason}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8090",
        "https://jira.example.com/",
        "http://[::1]:8080/jira",
    ],
)
def test_plain_http_and_https_upstreams_are_accepted(url: str) -> None:
    """An http(s) URL with a host, and optionally a base path, is usable."""
    assert upstream_base(url).host


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "ftp://files.example.com",
        "jira.example.com:8080",
        "http://user:secret@jira.example.com",
        "http://jira.example.com/?x=1",
        "http:///no-host",
    ],
)
def test_an_unusable_upstream_is_a_configuration_error(url: str | None) -> None:
    """Other schemes, no host, a query or credentials in the URL are refused."""
    with pytest.raises(ConfigurationError, match="TOKENWARD_GATE_UPSTREAM_URL"):
        upstream_base(url)
