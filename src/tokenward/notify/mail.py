"""E-mail over SMTP with aiosmtplib: plain, STARTTLS or implicit TLS, with or
without authentication, all from the settings."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

import aiosmtplib
from pydantic import SecretStr

from tokenward.config import Settings
from tokenward.notify.errors import DeliveryError
from tokenward.notify.messages import Message

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    sender: str
    timeout: float
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The SMTP server the settings name, or None if `smtp_host` is unset."""
        if not settings.smtp_host or not settings.smtp_from:
            return None

        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout_seconds,
            username=settings.smtp_username,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
        )

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file else None
        )
        context.minimum_version = ssl.TLSVersion.TLSv1_2

        return context


def email_message(
    config: SmtpConfig, recipients: list[str], message: Message, *, message_id: str
) -> EmailMessage:
    """A plain-text mail from the configured sender to `recipients`."""
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id
    # Tells auto-responders not to answer (RFC 3834).
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)

    return mail


def new_message_id(config: SmtpConfig) -> str:
    return make_msgid(domain=config.sender.rpartition("@")[2] or None)


class Mailer:
    """Sends mails over one SMTP connection per `connection()` block."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[MailConnection]:
        """A connection that is opened on the first send and closed at the end."""
        connection = MailConnection(self.config)
        try:
            yield connection
        finally:
            await connection.close()


class MailConnection:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._smtp: aiosmtplib.SMTP | None = None

    async def send(self, mail: EmailMessage) -> list[str]:
        """Send `mail`; returns the recipients the server refused while it took
        the others. DeliveryError if it could not be sent at all (permanent when
        every recipient was refused for good, with a 5xx answer)."""
        try:
            smtp = await self._connected()
            refused, _ = await smtp.send_message(mail)
        except aiosmtplib.SMTPRecipientsRefused as error:
            first = error.recipients[0]
            raise DeliveryError(
                f"the SMTP server refused every recipient: {first.code} "
                f"{first.message}",
                permanent=all(r.code >= 500 for r in error.recipients),
            ) from None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as error:
            await self.close()
            raise DeliveryError(
                f"cannot send through {self._config.host}:{self._config.port}: "
                f"{type(error).__name__}: {error}"
            ) from None

        return sorted(refused)

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        config = self._config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            timeout=config.timeout,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            tls_context=config.tls_context() if config.security != "none" else None,
        )
        await smtp.connect()
        if config.username:
            password = config.password.get_secret_value() if config.password else ""
            await smtp.login(config.username, password)
        self._smtp = smtp

        return smtp
