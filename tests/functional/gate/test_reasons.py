"""Every reason code of the gate, through each face (nginx, Traefik/Caddy and
Envoy forward auth, and the reverse proxy), on SQLite and PostgreSQL: the status,
the reason, the headers a client or proxy needs, the body, and the audit record of
the decision (SPEC G2, G7, A3).

The cases (reason_cases.py) are checked against `Reason`: a reason added without a
case fails `test_every_reason_is_covered`, and `test_reason` for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.functional.gate.faces import (
    FORWARD_AUTH_FACES,
    PROXY,
    Face,
    Gatekeeper,
    assert_answer,
    forward_auth_gate,
)
from tests.functional.gate.proxy_upstream import EchoUpstream
from tests.functional.gate.reason_cases import CASES, SETTINGS
from tests.support import LiveServer, Setup, serve_asgi, start_proxy
from tokenward.config import Settings
from tokenward.gate.reasons import Reason

FAILURE_LIMIT = 4


def test_every_reason_is_covered() -> None:
    """Each reason code has a case in the table, and the table nothing else."""
    missing = [str(reason) for reason in Reason if reason not in CASES]

    assert missing == [], f"reasons without a functional test: {missing}"
    assert set(CASES) <= set(Reason)


@pytest.fixture
def settings(settings: Settings, reason: Reason) -> Settings:
    """Anonymous requests audited too, so every decision is in the trail; a small
    failure limit for the throttle's case; and what the reason's case needs."""
    return settings.model_copy(
        update={
            "audit_anonymous": True,
            "gate_failure_limit": FAILURE_LIMIT,
            **SETTINGS.get(reason, {}),
        }
    )


@pytest.fixture
def gate(request: pytest.FixtureRequest, setup: Setup) -> Iterator[Gatekeeper]:
    """An administrator and alice exist; the gate is asked through the face given:
    a forward-auth endpoint of the test server, or the reverse proxy in front of
    an upstream that echoes what reaches it."""
    face: Face = request.param
    admin_token = setup.admin()
    setup.user("alice")
    with ExitStack() as stack:
        if face.forward_auth:
            server: LiveServer = request.getfixturevalue("server")
            keeper = forward_auth_gate(server, setup, face, admin_token)
        else:
            settings: Settings = request.getfixturevalue("settings")
            upstream = stack.enter_context(serve_asgi(EchoUpstream()))
            proxy = stack.enter_context(start_proxy(settings, setup.clock, upstream))
            keeper = Gatekeeper(
                api_url=proxy.api_url,
                gate_url=proxy.url,
                container=proxy.container,
                setup=setup,
                face=face,
                admin_token=admin_token,
            )
        stack.callback(keeper.close)
        yield keeper


FACES = (*FORWARD_AUTH_FACES, PROXY)


@pytest.mark.parametrize("gate", FACES, indirect=True, ids=lambda face: face.name)
@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_reason(gate: Gatekeeper, reason: Reason) -> None:
    """The face answers the case with the reason's status and headers, no body, and
    the decision is in the audit trail with the same reason."""
    arrange = CASES.get(reason)
    assert arrange is not None, f"no case for {reason}"

    answer = arrange(gate)

    assert_answer(gate.face, answer, reason)
    record = gate.audit_of(answer)
    assert record.reason == str(reason)
    assert record.outcome == ("allowed" if reason.allows else "denied")
    password = reason in (Reason.PASSWORD_ALLOWED, Reason.PASSWORD_DENIED)
    assert record.event == ("password_login" if password else "gate_decision")
    method, target = answer.extensions["original"]
    assert (record.method, record.path) == (method, target.split("?")[0])
    assert record.client_ip == "127.0.0.1"
    assert record.request_id == answer.extensions["request_id"]
    stored = " ".join(str(value) for value in vars(record).values())
    prefix = gate.settings.token_prefix
    assert f"{prefix}_" not in stored, "a token reached the audit record"
