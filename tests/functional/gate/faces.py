"""Asking the gate through each of its faces, as the proxies in front (or the
clients of the built-in reverse proxy) would, and reading back the audit record of
each answer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.support import LiveServer, Setup
from tokenward.audit.models import AuditRecord
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.gate.reasons import Reason

# nginx `auth_request` passes on only 2xx, 401 and 403; the nginx face says any
# other status in this header and refuses with 403.
STATUS_HEADER = "X-Tokenward-Status"
REASON_HEADER = "X-Tokenward-Reason"
NGINX_STATUSES = frozenset({200, 401, 403})
IDENTITY_HEADERS = (
    "x-tokenward-user",
    "x-tokenward-groups",
    "x-tokenward-token-id",
    "x-tokenward-scope",
)
AUDIT_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Face:
    """One way of putting an original request before the gate."""

    name: str

    @property
    def forward_auth(self) -> bool:
        """Whether this face only answers (forward auth) or also forwards (proxy)."""
        return self.name != "proxy"

    def ask(
        self,
        client: httpx.Client,
        method: str,
        target: str,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        if self.name == "nginx":
            sent = {"X-Original-Method": method, "X-Original-URI": target, **headers}
            return client.get("/auth/nginx", headers=sent)
        if self.name == "forward":
            sent = {"X-Forwarded-Method": method, "X-Forwarded-Uri": target, **headers}
            return client.get("/auth/forward", headers=sent)
        if self.name == "envoy":
            # Envoy sends the original method and path, below its path prefix.
            return client.request(method, "/auth/envoy" + target, headers=headers)
        if self.name == "proxy":
            return client.request(method, target, headers=headers)
        raise AssertionError(f"unknown face {self.name}")

    def status_for(self, reason: Reason) -> int:
        """The status this face answers for `reason`."""
        if self.name == "nginx" and reason.status not in NGINX_STATUSES:
            return 403

        return reason.status


NGINX = Face("nginx")
FORWARD = Face("forward")
ENVOY = Face("envoy")
PROXY = Face("proxy")
FORWARD_AUTH_FACES = (NGINX, FORWARD, ENVOY)


class Gatekeeper:
    """A test's view of the gate: asks through one face, arranges through the API.

    `gate_url` is where the face listens: tokenward's own listener for forward
    auth, the reverse proxy's listener for the proxy.
    """

    def __init__(
        self,
        *,
        api_url: str,
        gate_url: str,
        container: Container,
        setup: Setup,
        face: Face,
        admin_token: str,
    ) -> None:
        self.api_url = api_url
        self.container = container
        self.setup = setup
        self.face = face
        self.admin_token = admin_token
        self.http = httpx.Client(base_url=gate_url, timeout=10)

    @property
    def settings(self) -> Settings:
        return self.container.settings

    def close(self) -> None:
        self.http.close()

    def ask(
        self,
        method: str = "GET",
        target: str = "/rest/api/2/myself",
        *,
        authorization: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Ask about one original request. The answer's extensions keep its
        request id (for `audit_of`) and the original method and target."""
        request_id = uuid.uuid4().hex
        sent = {"X-Request-ID": request_id, **(headers or {})}
        if authorization is not None:
            sent["Authorization"] = authorization
        answer = self.face.ask(self.http, method, target, sent)
        answer.extensions["request_id"] = request_id
        answer.extensions["original"] = (method, target)

        return answer

    def reason_of(self, answer: httpx.Response) -> str:
        """The reason of a decision: from the answer when it says, else (a request
        the proxy forwarded) from its audit record."""
        said: str | None = answer.headers.get(REASON_HEADER)
        if said is not None:
            return said
        reason = self.audit_of(answer).reason
        assert reason is not None

        return reason

    def identity(self, answer: httpx.Response) -> dict[str, str]:
        """The identity headers the upstream gets for this request: answered to the
        proxy in front (forward auth), or as received upstream (the proxy)."""
        if self.face.forward_auth:
            received = list(answer.headers.items())
        else:
            received = [(name, value) for name, value in answer.json()["headers"]]

        return {
            name.lower(): value
            for name, value in received
            if name.lower() in IDENTITY_HEADERS
        }

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """Call the REST API as the administrator; the call must succeed."""
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        with httpx.Client(
            base_url=f"{self.api_url}/api/v1", headers=headers, timeout=10
        ) as api:
            answer = api.request(method, path, json=body)
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"

        return answer

    def policy(self, **fields: Any) -> None:
        """Replace the gate policy through the REST API."""
        self.admin("PUT", "/policies/gate", fields)

    def audit_of(self, answer: httpx.Response) -> AuditRecord:
        """The audit record of the request `answer` answered, once it is written.

        An allow is answered only after its record is durable; a refusal may be
        answered first, so this waits a bounded time for it.
        """
        request_id: str = answer.extensions["request_id"]
        deadline = time.monotonic() + AUDIT_WAIT_SECONDS
        while True:
            records = self.records(request_id)
            if records:
                assert len(records) == 1, f"{len(records)} records for one request"
                return records[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no audit record for request {request_id}")
            time.sleep(0.05)

    def records(self, request_id: str) -> list[AuditRecord]:
        async def work(container: Container) -> list[AuditRecord]:
            async with container.db.read() as session:
                found = await session.scalars(
                    select(AuditRecord).where(AuditRecord.request_id == request_id)
                )
                return list(found)

        return self.setup.run(work)


def forward_auth_gate(
    server: LiveServer, setup: Setup, face: Face, admin_token: str
) -> Gatekeeper:
    """A Gatekeeper asking `server`'s forward-auth endpoint through `face`."""
    return Gatekeeper(
        api_url=server.url,
        gate_url=server.url,
        container=server.container,
        setup=setup,
        face=face,
        admin_token=admin_token,
    )


def assert_answer(face: Face, answer: httpx.Response, reason: Reason) -> None:
    """`answer` is this face's answer for `reason`.

    Forward auth: the status, the reason, the headers a proxy needs
    (WWW-Authenticate on 401, Retry-After on 429) and no body. The reverse proxy:
    an allowed request reaches the upstream; a refusal has the same status and
    headers, and a JSON body naming the reason.
    """
    if not face.forward_auth and reason.allows:
        assert answer.status_code == 200, answer.text
        method, target = answer.extensions["original"]
        assert answer.json()["method"] == method, "the upstream did not get it"
        assert answer.json()["raw_path"] == target.split("?")[0]
        return

    assert answer.headers.get(REASON_HEADER) == str(reason), (
        f"expected {reason}, got {answer.headers.get(REASON_HEADER)}"
        f" ({answer.status_code})"
    )
    assert answer.status_code == face.status_for(reason)
    if answer.status_code != reason.status:
        assert answer.headers.get(STATUS_HEADER) == str(reason.status)
    if reason.status == 401:
        challenge = answer.headers.get("WWW-Authenticate", "")
        assert "Bearer" in challenge
        assert "Basic" in challenge
    else:
        assert "WWW-Authenticate" not in answer.headers
    if reason.status == 429:
        assert int(answer.headers["Retry-After"]) >= 1
    if face.forward_auth:
        assert answer.content == b""
        assert answer.headers.get("Content-Length") == "0"
    else:
        assert answer.json()["error"]["code"] == str(reason)
        assert answer.headers.get("Content-Length") == str(len(answer.content))
