"""The audit log for administrators: search, page back in time, download.

The filters live in the query string, so a search is a link that can be bookmarked
or shared with another administrator, and the "older" and export links carry it.
Every request here only reads, so none needs a CSRF token; each still needs a live
session and the administer permission.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.queries import AuditFilter, audit_filter
from tokenward.audit.routes import ExportFormat, export_response
from tokenward.errors import InvalidInputError
from tokenward.policies.permissions import Permission
from tokenward.ui.pages.base import Visit, page

PAGE_SIZE = 50
_TEXT_FIELDS = ("since", "until", "user", "token_id", "address", "outcome")


def typed_filters(visit: Visit) -> dict[str, str | list[str]]:
    """The filters as typed into the form (query string), kept for re-display."""
    params = visit.request.query_params
    typed: dict[str, str | list[str]] = {
        name: params.get(name, "").strip() for name in _TEXT_FIELDS
    }
    typed["event"] = [value for value in params.getlist("event") if value]

    return typed


def read_filter(typed: dict[str, str | list[str]]) -> AuditFilter:
    """The AuditFilter the form describes, or InvalidInputError for its field."""
    events = typed["event"]

    return audit_filter(
        since=_moment(_text(typed, "since"), "since"),
        until=_moment(_text(typed, "until"), "until"),
        user=_text(typed, "user"),
        token_id=_text(typed, "token_id"),
        address=_text(typed, "address"),
        events=events if isinstance(events, list) else [events],
        outcome=_text(typed, "outcome"),
    )


def _text(typed: dict[str, str | list[str]], name: str) -> str:
    value = typed[name]

    return value if isinstance(value, str) else ""


def _moment(text: str, name: str) -> dt.datetime | None:
    """A time from the form; without a zone it is UTC, as every time shown is."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidInputError(
            f"{text!r} is not a date and time such as 2026-06-01T12:00", field=name
        ) from error

    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def query_string(typed: dict[str, str | list[str]], **extra: str | int) -> str:
    """The filters (only those given) and `extra` as a query string."""
    pairs: list[tuple[str, str | int]] = list(extra.items())
    for name, value in typed.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((name, each) for each in values if each)

    return urlencode(pairs)


def _before(visit: Visit) -> int | None:
    text = visit.request.query_params.get("before", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(
            "the page cursor is not a record number", field="before"
        )

    return int(text)


@page(needs=Permission.ADMINISTER)
async def audit_log(visit: Visit) -> Response:
    """The search form and one page of matching records."""
    typed = typed_filters(visit)
    context: dict[str, Any] = {
        "typed": typed,
        "events": list(AuditEvent),
        "outcomes": list(Outcome),
        "export_query": {
            format: query_string(typed, format=str(format)) for format in ExportFormat
        },
        "newest": query_string(typed),
    }
    try:
        criteria = read_filter(typed)
        before = _before(visit)
        found = await visit.services.audit.page(
            visit.person.actor, criteria, before=before, limit=PAGE_SIZE
        )
    except InvalidInputError as error:
        return visit.render(
            "audit/log.html",
            status=422,
            error=error.message,
            error_field=error.field,
            records=[],
            older=None,
            paged=False,
            **context,
        )

    older = None
    if found.next_before is not None:
        older = query_string(typed, before=found.next_before)

    return visit.render(
        "audit/log.html",
        error=None,
        error_field=None,
        records=found.records,
        older=older,
        paged=before is not None,
        **context,
    )


@page(needs=Permission.ADMINISTER)
async def export(visit: Visit) -> Response:
    """Every record the filters match, downloaded as CSV or JSON lines."""
    requested = visit.request.query_params.get("format", "csv")
    if requested not in set(ExportFormat):
        raise InvalidInputError("the export format is csv or jsonl", field="format")
    criteria = read_filter(typed_filters(visit))
    records = await visit.services.audit.export(
        visit.person.actor, visit.origin, criteria, format=requested
    )

    return export_response(records, ExportFormat(requested), visit.services.clock.now())


routes: list[BaseRoute] = [
    Route("/audit", audit_log, methods=["GET"]),
    Route("/audit/export", export, methods=["GET"]),
]
