"""REST routes for the audit log (SPEC A5): search page by page, and export."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.exports import csv_header, csv_lines, jsonl_lines
from tokenward.audit.models import AuditRecord
from tokenward.audit.queries import (
    MAX_PAGE_SIZE,
    AuditFilter,
    audit_filter,
)
from tokenward.schemas import Output
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["audit"])
# Records per chunk of a download: one chunk per batch the export reads.
_CHUNK = 200


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class AuditRecordOut(Output):
    seq: int
    occurred_at: dt.datetime
    event: str
    outcome: str
    reason: str | None
    actor: str | None
    subject: str | None
    token_id: str | None
    client_ip: str | None
    method: str | None
    path: str | None
    user_agent: str | None
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(Output):
    items: list[AuditRecordOut]
    next_before: int | None


def _filter(
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    user: Annotated[str | None, Query(description="Actor or subject")] = None,
    token_id: str | None = None,
    address: Annotated[
        str | None, Query(description="Client address, or a range in CIDR form")
    ] = None,
    event: Annotated[
        list[AuditEvent] | None, Query(description="Any of these events")
    ] = None,
    outcome: Outcome | None = None,
) -> AuditFilter:
    """The filters shared by the search and the export."""
    return audit_filter(
        since=since,
        until=until,
        user=user,
        token_id=token_id,
        address=address,
        events=[str(each) for each in event or []],
        outcome=None if outcome is None else str(outcome),
    )


Filter = Annotated[AuditFilter, Depends(_filter)]


@router.get("/audit", response_model=AuditPageOut)
async def search_audit(
    services: Services,
    caller: Caller,
    criteria: Filter,
    before: Annotated[
        int | None, Query(ge=1, description="The `next_before` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> AuditPageOut:
    """Audit records matching every filter given, newest first (administrators)."""
    page = await services.audit.page(caller, criteria, before=before, limit=limit)

    return AuditPageOut(
        items=[AuditRecordOut.model_validate(record) for record in page.records],
        next_before=page.next_before,
    )


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/jsonl": {}}}},
)
async def export_audit(
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
    criteria: Filter,
    format: ExportFormat = ExportFormat.JSONL,
) -> StreamingResponse:
    """Every matching record, newest first, as CSV or JSON lines, streamed
    (administrators)."""
    records = await services.audit.export(caller, origin, criteria, format=str(format))

    return export_response(records, format, services.clock.now())


def export_response(
    records: AsyncIterator[AuditRecord], format: ExportFormat, now: dt.datetime
) -> StreamingResponse:
    """A download of `records` in `format`, written as they are read."""
    media, lines = _FORMATS[format]
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"',
        "Cache-Control": "no-store",
    }
    header = csv_header() if format is ExportFormat.CSV else ""

    return StreamingResponse(
        _chunks(records, lines, header), media_type=media, headers=headers
    )


_FORMATS: dict[ExportFormat, tuple[str, Callable[[Iterable[AuditRecord]], str]]] = {
    ExportFormat.CSV: ("text/csv; charset=utf-8", csv_lines),
    ExportFormat.JSONL: ("application/jsonl; charset=utf-8", jsonl_lines),
}


async def _chunks(
    records: AsyncIterator[AuditRecord],
    lines: Callable[[Iterable[AuditRecord]], str],
    header: str,
) -> AsyncIterator[str]:
    if header:
        yield header
    pending: list[AuditRecord] = []
    async for record in records:
        pending.append(record)
        if len(pending) >= _CHUNK:
            yield lines(pending)
            pending = []
    if pending:
        yield lines(pending)
