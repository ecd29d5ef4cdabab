"""The audit trail as files: CSV and JSON lines, written a batch at a time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any

from tokenward.audit.chain import CHAINED_FIELDS
from tokenward.audit.models import AuditRecord

# Every field the chain covers, and the chain itself, so that an export can be
# verified on its own.
EXPORT_FIELDS = (*CHAINED_FIELDS, "prev_hash", "hash")
# A spreadsheet runs a cell that starts with one of these as a formula, and user
# agents and paths are chosen by whoever sends the request.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_rows(records: Iterable[AuditRecord]) -> Iterable[dict[str, Any]]:
    """Each record as a plain mapping of EXPORT_FIELDS (time in ISO 8601 UTC)."""
    for record in records:
        row = {name: getattr(record, name) for name in EXPORT_FIELDS}
        row["occurred_at"] = record.occurred_at.astimezone(dt.UTC).isoformat()
        yield row


def csv_header() -> str:
    return _csv_line(EXPORT_FIELDS)


def csv_lines(records: Iterable[AuditRecord]) -> str:
    """The CSV lines of `records` (details as JSON; cells that a spreadsheet
    would run as a formula are prefixed with an apostrophe)."""
    return "".join(
        _csv_line(
            [
                _cell(json.dumps(value, sort_keys=True) if name == "details" else value)
                for name, value in row.items()
            ]
        )
        for row in export_rows(records)
    )


def jsonl_lines(records: Iterable[AuditRecord]) -> str:
    """One JSON object a line per record."""
    return "".join(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        for row in export_rows(records)
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text

    return text


def _csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)

    return buffer.getvalue()
