"""Real receivers for notifications, started by the tests on loopback: an SMTP
server (aiosmtpd) that keeps what it receives, and an HTTP webhook receiver that
checks each call's signature on its own, without tokenward's code."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.functional.upstream.tls import make_pki
from tests.support import free_port, serve_asgi
from tokenward.web.asgi import Receive, Scope, Send


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes
    over_tls: bool
    login: str | None

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        content: str = body.get_content()
        return content


class _Handler:
    def __init__(self, refused: set[str]) -> None:
        self.received: list[ReceivedMail] = []
        self._refused = refused
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self._refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = bytes(envelope.original_content or b"")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        with self._lock:
            self.received.append(
                ReceivedMail(
                    sender=str(envelope.mail_from),
                    recipients=list(envelope.rcpt_tos),
                    message=message,
                    raw=raw,
                    over_tls=session.ssl is not None or _tls(server),
                    login=login,
                )
            )
        return "250 OK"


def _tls(server: SMTP) -> bool:
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


@dataclass
class Mailbox:
    """An SMTP server on loopback and the mails it took."""

    host: str
    port: int
    security: str
    ca_file: Path | None
    handler: _Handler

    @property
    def received(self) -> list[ReceivedMail]:
        return list(self.handler.received)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The tokenward settings that send mail here."""
        return {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": self.security,
            "smtp_from": "tokenward@example.test",
            "smtp_ca_file": self.ca_file,
            "smtp_timeout_seconds": 5.0,
            **extra,
        }


@contextmanager
def smtp_server(
    directory: Path,
    *,
    security: str = "none",
    credentials: tuple[str, str] | None = None,
    refused: tuple[str, ...] = (),
) -> Iterator[Mailbox]:
    """An aiosmtpd server: plain, STARTTLS (required) or implicit TLS, with a
    throwaway CA; with `credentials`, AUTH is required (over TLS only)."""
    handler = _Handler(set(refused))
    options: dict[str, Any] = {}
    ca_file = None
    if security != "none":
        pki = make_pki(directory)
        ca_file = pki.ca_file
        if security == "starttls":
            options.update(tls_context=pki.server_context(), require_starttls=True)
        else:
            options.update(ssl_context=pki.server_context())
    if credentials is not None:

        def authenticate(
            server: SMTP,
            session: Session,
            envelope: Envelope,
            mechanism: str,
            auth_data: Any,
        ) -> AuthResult:
            given = (auth_data.login.decode(), auth_data.password.decode())
            return AuthResult(
                success=given == credentials, handled=False, auth_data=auth_data
            )

        options.update(authenticator=authenticate, auth_required=True)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Mailbox("127.0.0.1", port, security, ca_file, handler)
    finally:
        controller.stop()


@dataclass(frozen=True)
class WebhookCall:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool
    status: int

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class WebhookReceiver:
    """A plain ASGI app taking webhook calls: it answers 503 to the first
    `fail_first` calls, then 204 to each call whose signature is valid (401 else)."""

    secret: str
    fail_first: int = 0
    calls: list[WebhookCall] = field(default_factory=list)

    def valid(self, headers: dict[str, str], body: bytes) -> bool:
        timestamp = headers.get("x-tokenward-timestamp", "")
        given = headers.get("x-tokenward-signature", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return timestamp.isdigit() and hmac.compare_digest(given, f"sha256={expected}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        valid = self.valid(headers, body)
        status = 503 if len(self.calls) < self.fail_first else 204 if valid else 401
        self.calls.append(WebhookCall(headers, body, valid, status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextmanager
def webhook_receiver(
    secret: str, *, fail_first: int = 0
) -> Iterator[tuple[str, WebhookReceiver]]:
    """A receiver served on a free loopback port; yields its URL and itself."""
    receiver = WebhookReceiver(secret, fail_first=fail_first)
    with serve_asgi(receiver) as url:
        yield f"{url}/hooks/tokenward", receiver
