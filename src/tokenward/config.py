"""Typed settings from `TOKENWARD_…` variables and an optional TOML file.

Precedence, highest first: values passed in code, environment variables, the TOML
file named by `TOKENWARD_CONFIG`, the defaults below. Every setting is documented
with its default in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import warnings
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from tokenward.errors import ConfigurationError

PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9]{1,15}")


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are `SecretStr`: reprs hide them."""

    model_config = SettingsConfigDict(
        env_prefix="TOKENWARD_",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("tokenward-data"),
        description="Holds the SQLite database and the generated instance secret.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database; empty means SQLite in `data_dir`. "
            "PostgreSQL: postgresql+psycopg://user@host/db."
        ),
    )
    instance_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key for token digests (at least 32 characters). Required with PostgreSQL; "
            "generated into `data_dir` with SQLite when unset."
        ),
    )
    instance_secret_file: Path | None = Field(
        default=None,
        description="A file to read the instance secret from (e.g. a mounted secret).",
    )
    token_prefix: str = Field(
        default="tw",
        description="Prefix of this instance's tokens: 2-16 lowercase letters, digits.",
    )
    default_token_lifetime_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Lifetime of a new token when its creator names none.",
    )
    token_request_ttl_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="Days a token request awaits a decision, and an approved one "
        "its generation, before it expires.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(
        default=8080, ge=1, le=65535, description="Port `serve` listens on."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json` for production, `console` for people."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level of log events written."
    )
    log_allowed_decisions: bool = Field(
        default=False,
        description=(
            "Log each allowed gate decision at info; otherwise at debug (refusals "
            "are always logged at info)."
        ),
    )
    shutdown_timeout_seconds: int = Field(
        default=20,
        ge=1,
        description=(
            "On SIGTERM, how long requests in flight may take to finish before they "
            "are cut; the audit is flushed after them either way."
        ),
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="How long SQLite waits for a lock before giving up, in ms.",
    )
    gate_upstream_url: str | None = Field(
        default=None,
        description=(
            "The API tokenward protects, for its own reverse proxy "
            "(e.g. http://127.0.0.1:8090); empty: forward-auth only."
        ),
    )
    gate_port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        description="Port of the reverse proxy listener, apart from the API's own.",
    )
    gate_upstream_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds the reverse proxy waits to connect to the upstream.",
    )
    gate_upstream_read_timeout: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds the reverse proxy waits for each read from (or write to) the "
            "upstream before answering 504."
        ),
    )
    gate_preserve_host: bool = Field(
        default=False,
        description=(
            "Send the client's Host header to the upstream instead of the "
            "upstream URL's host."
        ),
    )
    gate_upstream_ca_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the CAs that sign an https upstream's certificate; "
            "unset: the system's trust store."
        ),
    )
    gate_trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Ranges of proxies whose X-Forwarded-For / Forwarded is believed.",
    )
    gate_forwarding_header: Literal["x-forwarded-for", "forwarded"] = Field(
        default="x-forwarded-for",
        description=(
            "The one header trusted proxies write the client's address into; "
            "the other is ignored."
        ),
    )
    gate_identity: Literal["headers", "inject"] = Field(
        default="headers",
        description=(
            "How the upstream learns who calls: trusted identity headers, or the "
            "user's stored upstream credential injected as Authorization."
        ),
    )
    gate_user_header: str = Field(
        default="X-Tokenward-User", description="Identity header: the username."
    )
    gate_groups_header: str = Field(
        default="X-Tokenward-Groups", description="Identity header: the groups, joined."
    )
    gate_token_id_header: str = Field(
        default="X-Tokenward-Token-Id", description="Identity header: the token id."
    )
    gate_scope_header: str = Field(
        default="X-Tokenward-Scope", description="Identity header: the token's scope."
    )
    gate_upstream_check_path: str = Field(
        default="/rest/api/2/myself",
        description=(
            "Where a saved upstream credential is tried: a path on "
            "`gate_upstream_url`, or a full http(s) URL."
        ),
    )
    gate_upstream_check_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long a credential check waits for the upstream.",
    )
    gate_upstream_same_user: bool = Field(
        default=False,
        description=(
            "Accept an upstream credential only if the upstream names its owner "
            "(the same username) when it is checked."
        ),
    )
    gate_credential_cache_size: int = Field(
        default=10_000,
        ge=0,
        description="Decrypted upstream credentials each instance keeps.",
    )
    gate_cache_size: int = Field(
        default=100_000, ge=0, description="Token snapshots each instance keeps."
    )
    gate_cache_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often each instance checks for changes it may have missed.",
    )
    gate_failure_limit: int = Field(
        default=30,
        ge=0,
        description="Failed attempts per client address per window before 429; 0: off.",
    )
    gate_failure_window_seconds: int = Field(
        default=60, ge=1, description="The window of `gate_failure_limit`."
    )
    audit_durability: Literal["durable", "lossy"] = Field(
        default="durable",
        description=(
            "durable: an allowed request is answered once its audit record is "
            "committed. lossy: at once; a crash can lose the last records."
        ),
    )
    audit_anonymous: bool = Field(
        default=False,
        description="Also audit requests that carry no credentials and pass through.",
    )
    api_docs: bool = Field(
        default=True,
        description="Serve the OpenAPI document and its browsable page under /api/v1.",
    )
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
    ui_api_url: str | None = Field(
        default=None,
        description=(
            "The address people call the protected API at, used in the examples "
            "shown with a new token; unset: the reverse proxy listener if there "
            "is one."
        ),
    )
    ui_session_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=1440,
        description="A web UI session ends after this many minutes without a page.",
    )
    ui_session_hours: int = Field(
        default=12,
        ge=1,
        le=720,
        description="A web UI session ends this many hours after sign-in, used or not.",
    )
    ui_secure_cookie: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "The session cookie's Secure flag: `auto` sets it when the page is "
            "served over HTTPS (directly, or by a trusted proxy saying so)."
        ),
    )
    ui_signin_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed sign-ins per user name, and per client address, within 15 "
            "minutes before further attempts are refused for 15 minutes."
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("TOKENWARD_CONFIG")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise ConfigurationError(
                    f"TOKENWARD_CONFIG names {path}, which is not a file"
                )
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))

        return tuple(sources)

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("smtp_host") and not value:
            raise ValueError("is needed when smtp_host is set")

        return value

    @field_validator("gate_upstream_check_path")
    @classmethod
    def _check_upstream_check_path(cls, value: str) -> str:
        if not value.startswith(("/", "http://", "https://")):
            raise ValueError("must be a path starting with / or an http(s) URL")

        return value

    @field_validator("token_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not PREFIX_PATTERN.fullmatch(value):
            raise ValueError(
                "must be 2-16 lowercase letters or digits, starting with a letter"
            )

        return value

    @field_validator("gate_trusted_proxies")
    @classmethod
    def _check_proxies(cls, values: list[str]) -> list[str]:
        return [
            str(ipaddress.ip_network(value.strip(), strict=True)) for value in values
        ]

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """`gate_trusted_proxies`, parsed."""
        return tuple(ipaddress.ip_network(value) for value in self.gate_trusted_proxies)

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use, with the SQLite default filled in."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()

        return f"sqlite+aiosqlite:///{(self.data_dir / 'tokenward.db').resolve()}"

    @property
    def uses_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read the settings; validation errors become one clear ConfigurationError."""
    _warn_about_unknown_variables()
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"TOKENWARD_{_variable(item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    except SettingsError as error:
        # Raised for values that are not even parseable, such as a list that is
        # not JSON; the message names the field.
        raise ConfigurationError(f"invalid configuration: {error}") from None


# Variables with our prefix that are not settings but are read by other parts.
_NOT_SETTINGS = frozenset({"CONFIG", "TEST_DATABASE_URL", "FORBID_SKIPS"})


def _warn_about_unknown_variables() -> None:
    """A misspelled variable would otherwise be ignored without a word."""
    known = {name.upper() for name in Settings.model_fields} | _NOT_SETTINGS
    for variable in sorted(os.environ):
        if variable.startswith("TOKENWARD_") and variable[10:] not in known:
            warnings.warn(
                f"{variable} is not a tokenward setting and is ignored",
                stacklevel=3,
            )


def _variable(location: tuple[int | str, ...]) -> str:
    return "_".join(str(part) for part in location).upper()
