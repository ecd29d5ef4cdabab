"""The client address of a call to tokenward's own API, behind a trusted proxy."""

from __future__ import annotations

import httpx

from tests.support import Setup, start_server
from tokenward.clock import FrozenClock
from tokenward.config import Settings


def test_audit_records_the_forwarded_client_behind_a_trusted_proxy(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """Behind a trusted proxy, the audit record of an API call names the client the
    proxy forwarded for, as the token checks do, not the proxy itself."""
    token = setup.admin()
    trusted = settings.model_copy(update={"gate_trusted_proxies": ["127.0.0.0/8"]})

    with start_server(trusted, clock) as live:
        answer = httpx.post(
            f"{live.url}/api/v1/tokens",
            json={"label": "behind-a-proxy"},
            headers={
                "Authorization": f"Bearer {token}",
                "X-Forwarded-For": "198.51.100.23",
            },
            timeout=10,
        )

    assert answer.status_code == 201, answer.text
    created = [
        record
        for record in setup.audit_trail()
        if record.token_id == answer.json()["token"]["id"]
    ]
    assert [record.client_ip for record in created] == ["198.51.100.23"]
