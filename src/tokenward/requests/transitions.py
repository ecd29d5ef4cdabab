"""Moving a token request from one status to the next, and the queries and audit
entries that go with it.

Each change of status is an UPDATE guarded by the statuses it leaves and by the
request's expiry, so two managers deciding at once, or a double click on
"generate", change a request once only; the loser gets a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry
from tokenward.errors import ConflictError
from tokenward.policies.permissions import Actor
from tokenward.requests.models import OPEN, RequestStatus, TokenRequest


def require_status(
    request: TokenRequest, now: dt.datetime, wanted: RequestStatus
) -> None:
    status = request.status_at(now)
    if status is wanted:
        return
    detail = {
        RequestStatus.FULFILLED: f"; its token is {request.token_id}",
        RequestStatus.PENDING: "; it awaits a token manager's decision",
    }.get(status, "")
    raise ConflictError(
        f"token request {request.id!r} is {status}, not {wanted}{detail}",
        field="request_id",
    )


async def move(
    session: AsyncSession,
    request: TokenRequest,
    now: dt.datetime,
    sources: Sequence[RequestStatus],
    **values: Any,
) -> None:
    """Change `request` if it is still in one of `sources` and unexpired, else a
    conflict: another transaction got there first."""
    moved = await session.scalar(
        update(TokenRequest)
        .where(
            TokenRequest.id == request.id,
            TokenRequest.status.in_([str(s) for s in sources]),
            TokenRequest.expires_at > now,
        )
        .values(**values)
        .returning(TokenRequest.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        await session.refresh(request)
        raise ConflictError(
            f"token request {request.id!r} is {request.status_at(now)} now",
            field="request_id",
        )
    # Committed values: the UPDATE above wrote them; a flush must not again.
    for name, value in values.items():
        set_committed_value(request, name, value)


def with_status(
    query: Select[TokenRequest], status: RequestStatus | None, now: dt.datetime
) -> Select[TokenRequest]:
    if status is None:
        return query
    column = TokenRequest.status
    if status in OPEN:
        return query.where(column == str(status), TokenRequest.expires_at > now)
    if status is RequestStatus.EXPIRED:
        lapsed = column.in_([str(s) for s in OPEN]) & (TokenRequest.expires_at <= now)
        return query.where((column == str(status)) | lapsed)

    return query.where(column == str(status))


def entry(
    event: AuditEvent, actor: Actor, request: TokenRequest, **details: Any
) -> AuditEntry:
    return AuditEntry(
        event,
        actor=actor.name,
        subject=request.requester.username,
        details={"request_id": request.id, **details},
    )
