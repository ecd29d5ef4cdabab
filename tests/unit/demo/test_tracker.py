"""The demo tracker: seed issues, creation and edits, and its little JQL."""

from __future__ import annotations

import datetime as dt

import pytest

from tokenward.clock import FrozenClock
from tokenward.demo.tracker import Tracker, TrackerError

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def tracker() -> Tracker:
    return Tracker(FrozenClock(NOW))


def keys(tracker: Tracker, jql: str) -> list[str]:
    return [issue.key for issue in tracker.search(jql)]


def test_every_start_has_the_same_seed_issues(tracker: Tracker) -> None:
    """DEMO-1 to DEMO-3 exist with ids from 10001, the same on every start."""
    again = Tracker(FrozenClock(NOW))

    assert keys(tracker, "") == ["DEMO-1", "DEMO-2", "DEMO-3"]
    assert [i.id for i in tracker.search("")] == [10001, 10002, 10003]
    assert [i.summary for i in tracker.search("")] == [
        i.summary for i in again.search("")
    ]


def test_an_issue_is_found_by_key_or_by_id(tracker: Tracker) -> None:
    """Like Jira, both `DEMO-2` and `10002` name the same issue."""
    assert tracker.get("DEMO-2") is tracker.get("10002")


def test_an_unknown_issue_is_an_error(tracker: Tracker) -> None:
    """An unknown key is refused with Jira's message."""
    with pytest.raises(TrackerError, match="Issue does not exist"):
        tracker.get("DEMO-99")


def test_a_new_issue_takes_the_next_key_and_its_reporter(tracker: Tracker) -> None:
    """Creation numbers the issue, opens it and records who reported it, when."""
    issue = tracker.create(
        {
            "project": {"key": "DEMO"},
            "summary": "  Rotate the CI token  ",
            "issuetype": {"name": "Bug"},
            "description": "It expires on Friday.",
        },
        reporter="alice",
    )

    assert (issue.key, issue.id) == ("DEMO-4", 10004)
    assert issue.summary == "Rotate the CI token"
    assert issue.status == "Open"
    assert issue.issue_type == "Bug"
    assert issue.reporter == "alice"
    assert issue.created == issue.updated == NOW


def test_a_bad_new_issue_names_every_bad_field(tracker: Tracker) -> None:
    """Project, issue type, summary and unknown fields are all reported at once."""
    with pytest.raises(TrackerError) as caught:
        tracker.create(
            {"project": {"key": "NOPE"}, "summary": " ", "priority": "High"},
            reporter="alice",
        )

    assert set(caught.value.errors) == {"project", "issuetype", "summary", "priority"}
    assert keys(tracker, "") == ["DEMO-1", "DEMO-2", "DEMO-3"]


def test_an_edit_changes_summary_and_description_only(tracker: Tracker) -> None:
    """Summary and description change; other fields are refused, nothing saved."""
    issue = tracker.get("DEMO-3")
    tracker.update(issue, {"summary": "Passwords off", "description": "Done."})

    with pytest.raises(TrackerError) as caught:
        tracker.update(issue, {"summary": "Again", "status": "Done"})

    assert issue.summary == "Passwords off"
    assert issue.description == "Done."
    assert issue.updated == NOW
    assert set(caught.value.errors) == {"status"}


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("project = DEMO", ["DEMO-1", "DEMO-2", "DEMO-3"]),
        ('status = "In Progress"', ["DEMO-2"]),
        ("status != done", ["DEMO-2", "DEMO-3"]),
        ("summary ~ integration", ["DEMO-2"]),
        ("reporter = alice AND type = Task", ["DEMO-1"]),
        ("project = DEMO ORDER BY key DESC", ["DEMO-3", "DEMO-2", "DEMO-1"]),
        ("order by created desc", ["DEMO-3", "DEMO-2", "DEMO-1"]),
        ('text ~ "password logins"', ["DEMO-3"]),
        ("key = DEMO-9", []),
    ],
)
def test_jql_selects_and_orders(
    tracker: Tracker, jql: str, expected: list[str]
) -> None:
    """Clauses joined by AND select issues; ORDER BY sorts them."""
    assert keys(tracker, jql) == expected


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("priority = High", "Field 'priority' does not exist"),
        ("project =", "incomplete"),
        ("project = DEMO status = Open", "expected AND"),
        ("project = DEMO ORDER BY colour", "ORDER BY takes one of"),
        ("project = DEMO ORDER key", "expected BY"),
        ("ORDER BY key sideways", "ASC or DESC"),
    ],
)
def test_jql_it_cannot_read_is_refused_with_a_reason(
    tracker: Tracker, jql: str, message: str
) -> None:
    """A query the tracker does not understand is an error, not an empty result."""
    with pytest.raises(TrackerError, match=message):
        tracker.search(jql)
