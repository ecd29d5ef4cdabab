"""Typed settings from `TOKENWARD_…` variables and an optional TOML file.

Precedence, highest first: values passed in code, environment variables, the TOML
file named by `TOKENWARD_CONFIG`, the defaults below. Every setting is documented
with its default in docs/configuration.md; a test keeps the two in step.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from tokenward.config.gate import GateSettings
from tokenward.config.notify import NotificationSettings
from tokenward.config.web import WebSettings
from tokenward.errors import ConfigurationError

PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9]{1,15}")


class Settings(BaseSettings, GateSettings, NotificationSettings, WebSettings):
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
    api_docs: bool = Field(
        default=True,
        description="Serve the OpenAPI document and its browsable page under /api/v1.",
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

    @field_validator("token_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not PREFIX_PATTERN.fullmatch(value):
            raise ValueError(
                "must be 2-16 lowercase letters or digits, starting with a letter"
            )

        return value

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
