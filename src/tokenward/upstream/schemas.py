"""Upstream credential API schemas. The value goes in, and never comes out."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, SecretStr

from tokenward.schemas import Input, Output
from tokenward.upstream.schemes import MAX_VALUE_LENGTH, Scheme
from tokenward.upstream.services import CredentialInfo


class CredentialSave(Input):
    scheme: Scheme = Field(
        description="`bearer` for a personal access token, `basic` for "
        "username:password."
    )
    # SecretStr: the value stays out of reprs, logs and validation messages.
    value: SecretStr = Field(
        min_length=1,
        max_length=MAX_VALUE_LENGTH,
        description="The token, or username:password; checked against the "
        "upstream, stored encrypted, never returned.",
    )


class CredentialOut(Output):
    username: str
    scheme: Scheme
    checked_as: str | None = Field(
        description="The upstream user the last successful check authenticated as."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    last_checked_at: dt.datetime | None = Field(
        description="When the credential last passed a check."
    )
    key_current: bool = Field(
        description="false if it was saved under another instance secret: the gate "
        "cannot use it until it is saved again."
    )

    @classmethod
    def of(cls, info: CredentialInfo) -> CredentialOut:
        return cls(
            username=info.username,
            scheme=info.scheme,
            checked_as=info.checked_as,
            created_at=info.created_at,
            updated_at=info.updated_at,
            updated_by=info.updated_by,
            last_checked_at=info.last_checked_at,
            key_current=info.key_current,
        )
