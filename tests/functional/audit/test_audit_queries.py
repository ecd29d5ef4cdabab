"""Searching and exporting the audit trail over the REST API (SPEC A5)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import START
from tests.support import LiveServer, Setup
from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.models import AuditRecord
from tokenward.audit.services import AuditEntry, Origin, append_many
from tokenward.container import Container

_USERS = ("alice", "bob", "carol", None)
_ADDRESSES = (
    "10.1.2.3",
    "10.1.17.9",
    "10.1.40.1",
    "10.12.0.5",
    "192.168.1.20",
    "2001:db8::7",
    "2001:db9::1",
    None,
)
_EVENTS = (
    AuditEvent.TOKEN_CREATED,
    AuditEvent.TOKEN_REVOKED,
    AuditEvent.GATE_DECISION,
    AuditEvent.PASSWORD_LOGIN,
)
_OUTCOMES = (Outcome.SUCCESS, Outcome.ALLOWED, Outcome.DENIED, Outcome.FAILURE)


def seed(setup: Setup, count: int) -> None:
    """Append `count` varied records through the audit service; several share an
    instant, so paging has ties to break."""

    def entry(n: int) -> tuple[AuditEntry, Origin, dt.datetime]:
        audited = AuditEntry(
            event=_EVENTS[n % 4],
            outcome=_OUTCOMES[(n // 4) % 4],
            actor=_USERS[n % 3] if n % 5 else None,
            subject=_USERS[(n + 1) % 4],
            token_id=f"tok{n % 6:013d}",
            reason="seeded" if n % 7 == 0 else None,
            details={"n": n},
        )
        origin = Origin(
            client_ip=_ADDRESSES[n % len(_ADDRESSES)],
            method="GET",
            path=f"/seeded/{n}",
            user_agent="=HYPERLINK(evil)" if n == 1 else "seeder/1",
            request_id=f"seed-{n}",
        )
        return audited, origin, START + dt.timedelta(minutes=n // 3)

    async def work(container: Container) -> None:
        async with container.db.write() as session:
            await append_many(session, [entry(n) for n in range(count)])

    setup.run(work)


def in_network(network: str) -> Callable[[AuditRecord], bool]:
    parsed = ipaddress.ip_network(network)

    def check(record: AuditRecord) -> bool:
        if record.client_ip is None:
            return False
        address = ipaddress.ip_address(record.client_ip)
        return address.version == parsed.version and address in parsed

    return check


# Each case: query parameters, and the same criterion written plainly in Python.
CASES: dict[str, tuple[dict[str, Any], Callable[[AuditRecord], bool]]] = {
    "user": ({"user": "alice"}, lambda r: "alice" in (r.actor, r.subject)),
    "token": (
        {"token_id": "tok0000000000002"},
        lambda r: r.token_id == "tok0000000000002",
    ),
    "exact address": ({"address": "10.1.2.3"}, lambda r: r.client_ip == "10.1.2.3"),
    "IPv4 /16": ({"address": "10.1.0.0/16"}, in_network("10.1.0.0/16")),
    "IPv4 /20": ({"address": "10.1.16.0/20"}, in_network("10.1.16.0/20")),
    "IPv4 /8": ({"address": "10.0.0.0/8"}, in_network("10.0.0.0/8")),
    "IPv6 /32": ({"address": "2001:db8::/32"}, in_network("2001:db8::/32")),
    "events": (
        {"event": ["token_created", "token_revoked"]},
        lambda r: r.event in ("token_created", "token_revoked"),
    ),
    "outcome": ({"outcome": "denied"}, lambda r: r.outcome == "denied"),
    "period": (
        {"since": "2026-06-01T12:10:00Z", "until": "2026-06-01T12:20:00Z"},
        lambda r: (
            START + dt.timedelta(minutes=10)
            <= r.occurred_at
            < START + dt.timedelta(minutes=20)
        ),
    ),
    "combined": (
        {"user": "bob", "event": ["gate_decision"], "address": "10.0.0.0/8"},
        lambda r: (
            "bob" in (r.actor, r.subject)
            and r.event == "gate_decision"
            and in_network("10.0.0.0/8")(r)
        ),
    ),
}


def newest_first(records: list[AuditRecord]) -> list[int]:
    ordered = sorted(records, key=lambda r: (r.occurred_at, r.seq), reverse=True)

    return [record.seq for record in ordered]


def every_page(
    server: LiveServer, token: str, params: dict[str, Any], limit: int
) -> list[int]:
    """The seqs of every page of a search, following `next_before`."""
    seen: list[int] = []
    cursor: int | None = None
    with server.client(token) as api:
        while True:
            query = {**params, "limit": limit}
            if cursor is not None:
                query["before"] = cursor
            answer = api.get("/audit", params=query)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert len(body["items"]) <= limit
            seen.extend(item["seq"] for item in body["items"])
            cursor = body["next_before"]
            if cursor is None:
                return seen


@pytest.mark.parametrize("case", list(CASES))
def test_each_filter_narrows_to_exactly_the_matching_records(
    server: LiveServer, setup: Setup, case: str
) -> None:
    """Each filter returns every matching record and no other, newest first."""
    admin = setup.admin()
    seed(setup, 120)
    params, matches = CASES[case]
    trail = setup.audit_trail()
    expected = newest_first([record for record in trail if matches(record)])
    assert 0 < len(expected) < len(trail), "the case must narrow the trail"

    with server.client(admin) as api:
        answer = api.get("/audit", params={**params, "limit": 500})

    assert answer.status_code == 200, answer.text
    assert [item["seq"] for item in answer.json()["items"]] == expected
    assert answer.json()["next_before"] is None


@pytest.mark.parametrize("case", ["none", "user", "IPv4 /20"])
def test_paging_returns_every_record_exactly_once(
    server: LiveServer, setup: Setup, case: str
) -> None:
    """Following the cursor yields each matching record once, in order, even
    across many records written in the same instant."""
    admin = setup.admin()
    seed(setup, 2600)
    params, matches = CASES.get(case, ({}, lambda _record: True))
    expected = newest_first([r for r in setup.audit_trail() if matches(r)])

    assert every_page(server, admin, params, limit=37) == expected


def test_records_written_meanwhile_do_not_shift_older_pages(
    server: LiveServer, setup: Setup
) -> None:
    """New records appear on the first page only; the cursor keeps its place."""
    admin = setup.admin()
    seed(setup, 30)
    with server.client(admin) as api:
        first = api.get("/audit", params={"limit": 10}).json()
        seed(setup, 5)
        second = api.get(
            "/audit", params={"limit": 10, "before": first["next_before"]}
        ).json()

    assert second["items"][0]["seq"] < first["items"][-1]["seq"]
    assert {i["seq"] for i in first["items"]}.isdisjoint(
        i["seq"] for i in second["items"]
    )


def test_csv_export_holds_the_filtered_records(
    server: LiveServer, setup: Setup
) -> None:
    """The CSV export streams every record the filters match, spreadsheet-safe."""
    admin = setup.admin()
    seed(setup, 1500)
    params, matches = CASES["IPv4 /16"]
    expected = newest_first([r for r in setup.audit_trail() if matches(r)])

    with server.client(admin) as api:
        answer = api.get("/audit/export", params={**params, "format": "csv"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [int(row["seq"]) for row in rows] == expected
    by_request = {row["request_id"]: row for row in rows}
    assert by_request["seed-1"]["user_agent"] == "'=HYPERLINK(evil)"
    assert json.loads(by_request["seed-1"]["details"]) == {"n": 1}


def test_jsonl_export_holds_the_filtered_records(
    server: LiveServer, setup: Setup
) -> None:
    """The JSON lines export has one full record a line, for the filters given."""
    admin = setup.admin()
    seed(setup, 200)
    params, matches = CASES["combined"]
    trail = setup.audit_trail()
    expected = newest_first([r for r in trail if matches(r)])

    with server.client(admin) as api:
        answer = api.get("/audit/export", params={**params, "format": "jsonl"})

    assert answer.status_code == 200
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["seq"] for line in lines] == expected
    stored = {record.seq: record for record in trail}
    first = stored[lines[0]["seq"]]
    assert lines[0]["hash"] == first.hash
    assert lines[0]["details"] == first.details
    assert dt.datetime.fromisoformat(lines[0]["occurred_at"]) == first.occurred_at


def test_an_export_is_itself_audited(server: LiveServer, setup: Setup) -> None:
    """Who took a copy of which records: the export writes `audit_exported` with
    its filters and format before the first record leaves."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.get(
            "/audit/export",
            params={"format": "jsonl", "user": "bob", "outcome": "denied"},
        )
    [record] = [r for r in setup.audit_trail() if r.event == "audit_exported"]

    assert answer.status_code == 200
    assert record.actor == "admin"
    assert record.details == {
        "format": "jsonl",
        "filters": {"user": "bob", "outcome": "denied"},
    }
    assert record.path == "/api/v1/audit/export"


def test_only_administrators_read_the_audit_log(
    server: LiveServer, setup: Setup
) -> None:
    """Anyone else is refused the search and the export alike."""
    setup.admin()
    bob = setup.user("bob")

    with server.client(bob) as api:
        search = api.get("/audit")
        export = api.get("/audit/export", params={"format": "csv"})
    with server.client() as anonymous:
        unauthenticated = anonymous.get("/audit")

    assert search.status_code == 403
    assert export.status_code == 403
    assert "audit" not in export.text
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"address": "10.1.2.3/16"}, "address"),
        ({"address": "not-an-address"}, "address"),
        ({"event": "no_such_event"}, "event"),
        ({"outcome": "maybe"}, "outcome"),
        ({"before": "999999"}, "before"),
        ({"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, None),
        ({"since": "2026-06-02T00:00:00"}, "since"),
        ({"limit": "501"}, "limit"),
    ],
)
def test_bad_filters_are_refused_with_the_field(
    server: LiveServer, setup: Setup, params: dict[str, str], field: str | None
) -> None:
    """A filter that cannot be read is refused with a 422 naming it."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.get("/audit", params=params)

    assert answer.status_code == 422, answer.text
    if field is not None:
        assert field in answer.text
