"""Token Manager searches: the filter and the SQL it becomes."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, SQLColumnExpression, func, or_, select

from tokenward.directory.models import User
from tokenward.errors import InvalidInputError
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token


class TokenSort(enum.StrEnum):
    """The orders a search may ask for; only these columns are ever sorted on."""

    CREATED = "created"
    EXPIRES = "expires"
    LAST_USED = "last_used"
    OWNER = "owner"
    LABEL = "label"


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """A Token Manager search; every given criterion must match.

    `unused_since` matches tokens not used since then, never-used ones included;
    `never_used` only those never used at all.
    """

    owners: list[str] = field(default_factory=list)
    token_ids: list[str] = field(default_factory=list)
    label: str | None = None
    status: str | None = None
    scope: Scope | None = None
    expires_after: dt.datetime | None = None
    expires_before: dt.datetime | None = None
    used_since: dt.datetime | None = None
    unused_since: dt.datetime | None = None
    never_used: bool = False
    sort: TokenSort = TokenSort.CREATED
    descending: bool = True
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
    if criteria.owners or criteria.sort is TokenSort.OWNER:
        query = query.join(Token.owner)
    if criteria.owners:
        query = query.where(User.username.in_(criteria.owners))
    if criteria.token_ids:
        query = query.where(Token.id.in_(criteria.token_ids))
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

    return _with_use(query, criteria)


def search_order(criteria: TokenFilter) -> list[SQLColumnExpression[Any]]:
    """ORDER BY for `criteria`: the chosen column, then the token id, so that
    pages never overlap or skip a token when many share a value."""
    column: SQLColumnExpression[Any] = {
        TokenSort.CREATED: Token.created_at,
        TokenSort.EXPIRES: Token.expires_at,
        TokenSort.LAST_USED: Token.last_used_at,
        TokenSort.OWNER: User.username,
        TokenSort.LABEL: func.lower(Token.label),
    }[criteria.sort]
    ordered = column.desc() if criteria.descending else column.asc()
    # The two databases disagree on where NULL sorts, so it is said outright:
    # "never expires" counts as the latest expiry, "never used" as the oldest use.
    if criteria.sort is TokenSort.EXPIRES:
        ordered = ordered.nulls_first() if criteria.descending else ordered.nulls_last()
    elif criteria.sort is TokenSort.LAST_USED:
        ordered = ordered.nulls_last() if criteria.descending else ordered.nulls_first()

    # The tie-breaker runs the same way as the column, so that one index on
    # (column, id) serves the order in either direction.
    return [ordered, Token.id.desc() if criteria.descending else Token.id.asc()]


def _with_use(query: Select[Token], criteria: TokenFilter) -> Select[Token]:
    if criteria.never_used:
        query = query.where(Token.last_used_at.is_(None))
    if criteria.used_since is not None:
        query = query.where(Token.last_used_at >= criteria.used_since)
    if criteria.unused_since is not None:
        query = query.where(
            or_(
                Token.last_used_at.is_(None),
                Token.last_used_at < criteria.unused_since,
            )
        )

    return query
