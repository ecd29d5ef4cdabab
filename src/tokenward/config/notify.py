"""Settings of notifications (SMTP, webhooks) and the scheduled jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator


class NotificationSettings(BaseModel):
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for notification e-mail; unset: no e-mail is sent.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "`starttls` (required, usually port 587), `tls` (implicit, usually "
            "465) or `none` (plain; only for a relay on the same host)."
        ),
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login; unset: no authentication."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password for `smtp_username`."
    )
    smtp_from: str | None = Field(
        default=None,
        description="Sender address of notification e-mail; needed with `smtp_host`.",
    )
    smtp_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="How long each SMTP step may take."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the CAs that sign the SMTP server's certificate; unset: "
            "the system's trust store."
        ),
    )
    notify_webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="How long a webhook call may take."
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Attempts to deliver a notification before it is marked failed.",
    )
    notify_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Wait before the first retry; each further retry waits twice as long "
            "(at most 6 hours)."
        ),
    )
    notify_retention_days: int = Field(
        default=30,
        ge=1,
        description="Sent and failed notifications are deleted after this many days.",
    )
    jobs_enabled: bool = Field(
        default=True,
        description="Run the scheduled jobs inside `serve` (else run them from cron).",
    )
    jobs_interval_seconds: float = Field(
        default=300.0,
        ge=1,
        description="How often `serve` runs the periodic jobs (expiries, reminders).",
    )
    jobs_delivery_interval_seconds: float = Field(
        default=10.0,
        ge=0.1,
        description="How often `serve` sends the notifications that are due.",
    )
    jobs_lease_seconds: int = Field(
        default=600,
        ge=10,
        description=(
            "How long a job run holds its lease; a crashed instance's lease lapses "
            "after this."
        ),
    )

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("smtp_host") and not value:
            raise ValueError("is needed when smtp_host is set")

        return value
