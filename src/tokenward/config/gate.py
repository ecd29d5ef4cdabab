"""Settings of the gate: the reverse proxy, identity, the cache, throttling and
its audit (docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class GateSettings(BaseModel):
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

    @field_validator("gate_upstream_check_path")
    @classmethod
    def _check_upstream_check_path(cls, value: str) -> str:
        if not value.startswith(("/", "http://", "https://")):
            raise ValueError("must be a path starting with / or an http(s) URL")

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
