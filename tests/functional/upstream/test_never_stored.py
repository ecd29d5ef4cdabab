"""No upstream credential is ever stored in clear, logged or returned, however it
was saved, checked, refused, injected or removed (G6, A2, I4)."""

from __future__ import annotations

import base64
import http.client
import secrets
from urllib.parse import urlsplit

import pytest

from tests.functional.upstream.conftest import save
from tests.functional.upstream.fake_jira import FakeJira
from tests.support import (
    OPERATOR,
    ORIGIN,
    LiveServer,
    Setup,
    capture_logs,
    find_leaks,
    start_server,
    stored_bytes,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.upstream.schemes import Scheme


@pytest.fixture
def loud_settings(settings: Settings) -> Settings:
    """The test's settings, logging everything in the production format."""
    return settings.model_copy(update={"log_level": "debug", "log_format": "json"})


def fragments(name: str, value: str) -> dict[str, str]:
    """What would betray `value`: itself, its second half, and its hexadecimal and
    base64 forms (as a binary column or an encoded header would hold it)."""
    return {
        f"{name}": value,
        f"{name} (second half)": value[len(value) // 2 :],
        f"{name} (hexadecimal)": value.encode().hex(),
        f"{name} (base64)": base64.b64encode(value.encode()).decode(),
    }


def _forward_auth_unlogged(server: LiveServer, token: str) -> dict[str, str]:
    """The answer's headers to a forward-auth check, asked with http.client: the
    answer carries the credential by design, and httpx's debug log of it, in this
    same process, would be the test's own leak, not tokenward's."""
    connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    try:
        connection.request(
            "GET",
            "/auth/nginx",
            headers={
                "X-Original-Method": "GET",
                "X-Original-URI": "/rest/api/2/issue/ABC-1",
                "Authorization": f"Bearer {token}",
            },
        )
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()

    return {name.lower(): value for name, value in answer.getheaders()}


def _through_the_api(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> tuple[dict[str, str], list[str]]:
    """Credentials saved, refused, checked, injected and removed over HTTP; the
    values by name, and every API answer's text."""
    alice = setup.user("alice")
    bob = setup.user("bob")
    values = {
        "alice's PAT": secrets.token_urlsafe(33),
        "a refused PAT": secrets.token_urlsafe(33),
        "bob's password": "bob:" + secrets.token_urlsafe(18),
        "a refused password": "bob:" + secrets.token_urlsafe(18),
    }
    alices_pat = values["alice's PAT"]
    jira.accept(f"Bearer {alices_pat}", "alice")
    basic = base64.b64encode(values["bob's password"].encode()).decode()
    jira.accept(f"Basic {basic}", "bob")
    answers = [
        save(server, alice, values["alice's PAT"]),
        save(server, alice, values["a refused PAT"]),
        save(server, bob, values["bob's password"], scheme="basic"),
        save(server, bob, values["a refused password"], scheme="basic"),
    ]
    with server.client(alice) as api:
        answers.append(api.get("/me/upstream-credential"))
        answers.append(api.post("/me/upstream-credential/check"))
    injected = _forward_auth_unlogged(server, alice)
    assert injected["x-tokenward-authorization"] == f"Bearer {alices_pat}"
    with server.client(bob) as api:
        answers.append(api.delete("/me/upstream-credential"))
    assert [answer.status_code for answer in answers] == [
        200, 422, 200, 422, 200, 200, 204,
    ]  # fmt: skip

    return values, [answer.text for answer in answers]


def _through_the_services(setup: Setup, jira: FakeJira) -> dict[str, str]:
    """A credential saved and checked by the operator, as the command line does."""
    setup.user("carol")
    value = secrets.token_urlsafe(33)
    jira.accept(f"Bearer {value}", "carol")
    setup.run(
        lambda c: c.upstream_credentials.save(
            OPERATOR, ORIGIN, "carol", Scheme.BEARER, value
        )
    )
    setup.run(lambda c: c.upstream_credentials.check(OPERATOR, ORIGIN, "carol"))

    return {"carol's PAT": value}


def test_no_credential_is_stored_logged_or_returned(
    loud_settings: Settings, clock: FrozenClock, jira: FakeJira
) -> None:
    """The values appear in neither the database, the logs nor any API answer,
    in any of their usual encodings."""
    setup = Setup(loud_settings, clock)
    with (
        capture_logs(loud_settings) as logs,
        start_server(loud_settings, clock, own_logging=True) as server,
    ):
        values, answers = _through_the_api(server, setup, jira)
        values |= _through_the_services(setup, jira)
        stored = stored_bytes(loud_settings)
    forbidden: dict[str, str] = {}
    for name, value in values.items():
        forbidden |= fragments(name, value)
        if ":" in value:
            forbidden |= fragments(f"{name} alone", value.partition(":")[2])

    leaks = find_leaks(
        forbidden,
        {
            "the database": stored,
            "the logs": logs.getvalue(),
            "the API answers": "\n".join(answers),
        },
    )

    assert leaks == []
    # The searches can find what is there: names and events are stored and logged.
    assert b"upstream_credential_saved" in stored
    assert b"carol" in stored
    assert "/api/v1/me/upstream-credential" in logs.getvalue()
    assert '"checked_as":"alice"' in answers[0].replace(" ", "")
