"""The Audit log page: filter, page back, export; administrators only (SPEC A5, I1)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import pytest

from tests.functional.audit.test_audit_queries import seed
from tests.functional.ui.browser import WebClient
from tests.support import LiveServer, Setup

_REQUEST_ID = re.compile(r"<td>(seed-\d+)</td>")
_EVENT_CELL = re.compile(r"</time></td>\s*<td>([a-z_]+)</td>")
_OLDER = re.compile(r'<a href="([^"]+)" rel="next">Older</a>')
_EXPORT = re.compile(r'<a href="(/audit/export\?[^"]+)" download>{}</a>')


@pytest.fixture
def admin(server: LiveServer, setup: Setup) -> Iterator[WebClient]:
    """An administrator signed in to the web UI."""
    setup.admin()
    with WebClient(server.url) as web:
        web.sign_in("admin", setup.password("admin"))
        yield web


def test_filters_narrow_the_table(setup: Setup, admin: WebClient) -> None:
    """Only records of the chosen events and range are listed, with every column."""
    seed(setup, 60)

    page = admin.get(
        "/audit",
        params={"event": ["token_created", "gate_decision"], "address": "10.1.0.0/16"},
    )

    assert page.status_code == 200
    events = set(_EVENT_CELL.findall(page.text))
    assert events == {"token_created", "gate_decision"}
    expected = {
        f"seed-{r.details['n']}"
        for r in setup.audit_trail()
        if r.event in events
        and r.client_ip is not None
        and r.client_ip.startswith("10.1.")
    }
    assert set(_REQUEST_ID.findall(page.text)) == expected
    assert '<option value="token_created" selected>' in page.text
    assert 'value="10.1.0.0/16"' in page.text


def test_times_typed_without_a_zone_are_utc(setup: Setup, admin: WebClient) -> None:
    """The period from the datetime-local fields is read as UTC, end excluded."""
    seed(setup, 60)

    page = admin.get(
        "/audit", params={"since": "2026-06-01T12:05", "until": "2026-06-01T12:07:00"}
    )

    assert page.status_code == 200
    shown = sorted(_REQUEST_ID.findall(page.text))
    # Three seeded records a minute: minutes 5 and 6 are records 15 to 20.
    assert shown == sorted(f"seed-{n}" for n in range(15, 21))


def test_older_links_page_through_everything_once_keeping_the_filters(
    setup: Setup, admin: WebClient
) -> None:
    """Following "Older" shows each matching record once and keeps the search."""
    seed(setup, 400)
    expected = {
        f"seed-{r.details['n']}"
        for r in setup.audit_trail()
        if r.outcome == "denied" and r.request_id
    }

    seen: list[str] = []
    page = admin.get("/audit", params={"outcome": "denied"})
    while True:
        assert page.status_code == 200
        seen.extend(_REQUEST_ID.findall(page.text))
        older = _OLDER.search(page.text)
        if older is None:
            break
        link = html.unescape(older.group(1))
        assert "outcome=denied" in link
        page = admin.get(link)

    assert len(seen) == len(expected) > 50
    assert set(seen) == expected


def test_export_links_carry_the_filters(setup: Setup, admin: WebClient) -> None:
    """The CSV and JSON lines links download exactly what the page searched for."""
    seed(setup, 80)
    page = admin.get("/audit", params={"user": "carol", "event": "password_login"})

    csv_link = re.search(str(_EXPORT.pattern).format("CSV"), page.text)
    jsonl_link = re.search(str(_EXPORT.pattern).format("JSON lines"), page.text)
    assert csv_link is not None
    assert jsonl_link is not None
    download = admin.get(html.unescape(csv_link.group(1)))
    lines = admin.get(html.unescape(jsonl_link.group(1)))

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    expected = {
        r.seq
        for r in setup.audit_trail()
        if r.event == "password_login" and "carol" in (r.actor, r.subject)
    }
    assert {int(row["seq"]) for row in rows} == expected
    assert expected
    assert len(lines.text.splitlines()) == len(expected)


def test_bad_filters_come_back_with_the_error_and_what_was_typed(
    admin: WebClient,
) -> None:
    """A range with host bits set is refused, the form keeps every value typed."""
    page = admin.get("/audit", params={"address": "10.1.2.3/16", "user": "alice<b>"})

    assert page.status_code == 422
    assert "did you mean 10.1.0.0/16?" in page.text
    assert 'value="10.1.2.3/16"' in page.text
    assert 'value="alice&lt;b&gt;"' in page.text
    assert 'id="address" name="address"' in page.text
    assert 'aria-invalid="true"' in page.text


def test_people_without_administer_are_refused(
    server: LiveServer, setup: Setup
) -> None:
    """A signed-in non-administrator gets 403 for the page and for the export."""
    setup.admin()
    setup.user("bob")
    seed(setup, 5)
    with WebClient(server.url) as web:
        web.sign_in("bob", setup.password("bob"))
        page = web.get("/audit")
        export = web.get("/audit/export", params={"format": "csv"})

    assert page.status_code == 403
    assert export.status_code == 403
    assert "seed-" not in page.text + export.text


def test_signed_out_visitors_are_sent_to_sign_in(server: LiveServer) -> None:
    """Without a session the page and the export lead to the sign-in form."""
    with WebClient(server.url) as web:
        page = web.get("/audit?outcome=denied")
        export = web.get("/audit/export?format=jsonl")

    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=")
    assert export.status_code == 303
