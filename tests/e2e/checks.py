"""Small checks shared by the end-to-end tests: credentials to send, forged
headers, and what must or must not have reached the upstream."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import select

from tests.e2e.upstream import Received
from tests.support import Setup
from tokenward.audit.models import AuditRecord
from tokenward.container import Container

IDENTITY = (
    "X-Tokenward-User",
    "X-Tokenward-Groups",
    "X-Tokenward-Token-Id",
    "X-Tokenward-Scope",
)
SPOOFED = {
    "X-Tokenward-User": "admin",
    "X-Tokenward-Groups": "administrators",
    "X-Tokenward-Token-Id": "tk_forged",
    "X-Tokenward-Scope": "read-write",
    "X-Tokenward-Authorization": "Basic " + base64.b64encode(b"admin:x").decode(),
}
# A documentation address (RFC 5737): never the client's real one.
FORGED_ADDRESS = "203.0.113.7"


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def identity(received: Received) -> dict[str, str | None]:
    return {name: received.header(name) for name in IDENTITY}


def aliased(received: Received) -> dict[str, list[str]]:
    """Identity headers as a CGI or WSGI server would read them: `_` and `.`
    in a name count as `-`. Maps each name that arrived to its values."""
    found: dict[str, list[str]] = {}
    wanted = {name.lower() for name in IDENTITY}
    for name, value in received.headers:
        read_as = name.lower().replace("_", "-").replace(".", "-")
        if read_as in wanted:
            found.setdefault(name.lower(), []).append(value)

    return found


def assert_refused(answer: httpx.Response, status: int, reason: str) -> None:
    """The proxy refused with `status`, and says why with tokenward's code."""
    assert answer.status_code == status, (answer.status_code, answer.headers)
    assert answer.headers.get("X-Tokenward-Reason") == reason, answer.headers
    if status == 401:
        assert "Bearer" in answer.headers.get("WWW-Authenticate", "")


def assert_no_token_upstream(received: Received, *secrets: str) -> None:
    """No header that reached the upstream holds one of the `secrets`, plainly or
    inside Basic credentials."""
    for name, value in received.headers:
        scheme, _, rest = value.partition(" ")
        decoded = ""
        if scheme.lower() == "basic":
            decoded = base64.b64decode(rest + "==").decode(errors="replace")
        for secret in secrets:
            assert secret not in value, f"a token reached the upstream in {name}"
            assert secret not in decoded, f"a token reached the upstream in {name}"


def audit_of(setup: Setup, token_id: str) -> list[AuditRecord]:
    """The gate decisions recorded for `token_id`, oldest first."""

    async def work(container: Container) -> list[AuditRecord]:
        async with container.db.read() as session:
            records = await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.token_id == token_id)
                .where(AuditRecord.event == "gate_decision")
                .order_by(AuditRecord.seq)
            )
            return list(records)

    return setup.run(work)
