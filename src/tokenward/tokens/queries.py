"""Token Manager searches: the filter and the SQL it becomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select

from tokenward.directory.models import User
from tokenward.errors import InvalidInputError
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """A Token Manager search; every given criterion must match."""

    owners: list[str] = field(default_factory=list)
    label: str | None = None
    status: str | None = None
    scope: Scope | None = None
    expires_after: dt.datetime | None = None
    expires_before: dt.datetime | None = None
    limit: int = 100
    offset: int = 0


def with_status(
    query: Select[Token], status: str | None, now: dt.datetime
) -> Select[Token]:
    """`query` narrowed to tokens that are `status` at `now` (None: any)."""
    not_expired = or_(Token.expires_at.is_(None), Token.expires_at > now)
    if status is None:
        return query
    if status == "active":
        return query.where(Token.revoked_at.is_(None), not_expired)
    if status == "expired":
        return query.where(Token.revoked_at.is_(None), Token.expires_at <= now)
    if status == "revoked":
        return query.where(Token.revoked_at.is_not(None))
    raise InvalidInputError("status is one of active, expired, revoked", field="status")


def search_query(criteria: TokenFilter, now: dt.datetime) -> Select[Token]:
    """The tokens matching `criteria`, unordered and unpaged."""
    query = with_status(select(Token), criteria.status, now)
    if criteria.owners:
        query = query.join(Token.owner).where(User.username.in_(criteria.owners))
    if criteria.label:
        # The escape character itself is escaped first, so a backslash in the
        # search is taken literally rather than escaping what follows it.
        literal = (
            criteria.label.lower()
            .replace("\\", "\\\\")
            .replace("%", "\\%")
            .replace("_", "\\_")
        )
        query = query.where(func.lower(Token.label).like(f"%{literal}%", escape="\\"))
    if criteria.scope is not None:
        query = query.where(Token.scope == str(criteria.scope))
    if criteria.expires_after is not None:
        query = query.where(Token.expires_at > criteria.expires_after)
    if criteria.expires_before is not None:
        query = query.where(Token.expires_at <= criteria.expires_before)

    return query
