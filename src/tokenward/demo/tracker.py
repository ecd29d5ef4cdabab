"""The demo's issue tracker: a few issues in memory, searched with a little JQL.

Deterministic: the same seed issues on every start, numbered in order, so the quick
start and the tests can name `DEMO-1` and expect it. Nothing is persisted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.clock import Clock, SystemClock

PROJECTS = {"DEMO": "Demo project"}
ISSUE_TYPES = ("Task", "Story", "Bug")
FIRST_ID = 10001
MAX_SUMMARY = 255
MAX_RESULTS = 100
_SEED_TIME = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
_SEED = (
    ("Put tokenward in front of the tracker", "Task", "Done", "alice"),
    ("Give every integration its own read-only token", "Story", "In Progress", "alice"),
    ("Turn off password logins on the REST API", "Task", "Open", "bob"),
)
_EDITABLE = frozenset({"summary", "description"})
_CREATABLE = frozenset({"project", "summary", "description", "issuetype"})


class TrackerError(Exception):
    """A request the tracker refuses, in Jira's error shape: messages and fields."""

    def __init__(
        self, messages: list[str], errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join([*messages, *(errors or {}).values()]))
        self.messages = messages
        self.errors = dict(errors or {})


@dataclass(slots=True)
class Issue:
    id: int
    key: str
    project: str
    summary: str
    description: str
    issue_type: str
    status: str
    reporter: str
    created: dt.datetime
    updated: dt.datetime


class Tracker:
    """Issues by id, created and edited under a lock-free event loop."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._issues: dict[int, Issue] = {}
        for offset, (summary, issue_type, status, reporter) in enumerate(_SEED):
            when = _SEED_TIME + dt.timedelta(hours=offset)
            self._add(
                project="DEMO",
                summary=summary,
                description="",
                issue_type=issue_type,
                status=status,
                reporter=reporter,
                when=when,
            )

    def get(self, key_or_id: str) -> Issue:
        """The issue with this key (`DEMO-1`) or id (`10001`)."""
        for issue in self._issues.values():
            if key_or_id in (issue.key, str(issue.id)):
                return issue
        raise TrackerError(
            ["Issue does not exist or you do not have permission to see it."]
        )

    def create(self, fields: Mapping[str, Any], reporter: str) -> Issue:
        """A new issue from Jira-style `fields`; TrackerError names each bad one."""
        errors = _unknown(fields, _CREATABLE, "cannot be set")
        project = _name(fields.get("project"), "key")
        if project not in PROJECTS:
            errors["project"] = "valid project is required"
        issue_type = _name(fields.get("issuetype"), "name")
        if issue_type not in ISSUE_TYPES:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > MAX_SUMMARY:
            errors["summary"] = "Summary must be less than 255 characters."
        description = fields.get("description", "")
        if not isinstance(description, str):
            errors["description"] = "Description must be text."
        if errors:
            raise TrackerError([], errors)
        assert isinstance(summary, str)  # noqa: S101 - checked above, for mypy
        assert isinstance(description, str)  # noqa: S101 - checked above, for mypy

        return self._add(
            project=str(project),
            summary=summary.strip(),
            description=description,
            issue_type=str(issue_type),
            status="Open",
            reporter=reporter,
            when=self._clock.now(),
        )

    def update(self, issue: Issue, fields: Mapping[str, Any]) -> None:
        """Change the summary and/or the description of `issue`."""
        errors = _unknown(fields, _EDITABLE, "cannot be set")
        for name in _EDITABLE & fields.keys():
            value = fields[name]
            if not isinstance(value, str) or (name == "summary" and not value.strip()):
                errors[name] = f"Field '{name}' needs text."
        if errors:
            raise TrackerError([], errors)
        if "summary" in fields:
            issue.summary = fields["summary"].strip()
        if "description" in fields:
            issue.description = fields["description"]
        issue.updated = self._clock.now()

    def search(self, jql: str) -> list[Issue]:
        """The issues matching `jql`, in its order (by key when it names none)."""
        matches, order = parse_jql(jql)
        found = [issue for issue in self._issues.values() if matches(issue)]

        return order(found)

    def _add(
        self,
        *,
        project: str,
        summary: str,
        description: str,
        issue_type: str,
        status: str,
        reporter: str,
        when: dt.datetime,
    ) -> Issue:
        number = len(self._issues) + 1
        issue = Issue(
            id=FIRST_ID + number - 1,
            key=f"{project}-{number}",
            project=project,
            summary=summary,
            description=description,
            issue_type=issue_type,
            status=status,
            reporter=reporter,
            created=when,
            updated=when,
        )
        self._issues[issue.id] = issue

        return issue


Matcher = Callable[[Issue], bool]
Order = Callable[[list[Issue]], list[Issue]]

# Quoted strings, operators, and bare words.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|!=|[=~]|[^\s=~!"]+')
_FIELDS: dict[str, Callable[[Issue], str]] = {
    "project": lambda issue: issue.project,
    "key": lambda issue: issue.key,
    "issuekey": lambda issue: issue.key,
    "status": lambda issue: issue.status,
    "issuetype": lambda issue: issue.issue_type,
    "type": lambda issue: issue.issue_type,
    "reporter": lambda issue: issue.reporter,
    "summary": lambda issue: issue.summary,
    "text": lambda issue: f"{issue.summary}\n{issue.description}",
}
_SORTS: dict[str, Callable[[Issue], Any]] = {
    "key": lambda issue: issue.id,
    "created": lambda issue: (issue.created, issue.id),
    "updated": lambda issue: (issue.updated, issue.id),
    "summary": lambda issue: (issue.summary.lower(), issue.id),
}


def parse_jql(jql: str) -> tuple[Matcher, Order]:
    """A tiny JQL: `field = value`, `!=`, `~` (contains), joined by AND, then an
    optional `ORDER BY field [ASC|DESC]`. TrackerError says what is not understood.
    """
    tokens = _TOKEN.findall(jql)
    clauses: list[Matcher] = []
    order: Order = _by_key
    position = 0
    while position < len(tokens):
        word = tokens[position].lower()
        if word == "order":
            following = tokens[position + 1 : position + 2]
            if [token.lower() for token in following] != ["by"]:
                raise TrackerError(["Error in the JQL Query: expected BY after ORDER."])
            order = _order(tokens[position + 2 :])
            break
        if clauses:
            if word != "and":
                raise TrackerError(
                    [f"Error in the JQL Query: expected AND near '{tokens[position]}'."]
                )
            position += 1
        if position + 3 > len(tokens):
            raise TrackerError(["Error in the JQL Query: the query is incomplete."])
        field, operator, value = tokens[position : position + 3]
        clauses.append(_clause(field, operator, _unquoted(value)))
        position += 3

    return (lambda issue: all(clause(issue) for clause in clauses)), order


def _by_key(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=_SORTS["key"])


def _clause(field: str, operator: str, value: str) -> Matcher:
    read = _FIELDS.get(field.lower())
    if read is None:
        raise TrackerError(
            [
                f"Field '{field}' does not exist or you do not have permission "
                "to view it."
            ]
        )
    wanted = value.lower()
    if operator == "~":
        return lambda issue: wanted in read(issue).lower()
    if operator == "=":
        return lambda issue: read(issue).lower() == wanted
    if operator == "!=":
        return lambda issue: read(issue).lower() != wanted
    raise TrackerError([f"Error in the JQL Query: unknown operator '{operator}'."])


def _order(tokens: list[str]) -> Order:
    if not tokens or tokens[0].lower() not in _SORTS or len(tokens) > 2:
        raise TrackerError(
            [f"Error in the JQL Query: ORDER BY takes one of {', '.join(_SORTS)}."]
        )
    key = _SORTS[tokens[0].lower()]
    direction = tokens[1].lower() if len(tokens) == 2 else "asc"
    if direction not in ("asc", "desc"):
        raise TrackerError(["Error in the JQL Query: ORDER BY takes ASC or DESC."])

    return lambda issues: sorted(issues, key=key, reverse=direction == "desc")


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])

    return value


def _name(value: Any, attribute: str) -> str | None:
    """`{"key": "DEMO"}` → "DEMO", as Jira names projects and issue types."""
    if isinstance(value, Mapping):
        found = value.get(attribute)
        return found if isinstance(found, str) else None

    return None


def _unknown(
    fields: Mapping[str, Any], known: frozenset[str], verb: str
) -> dict[str, str]:
    return {
        name: (
            f"Field '{name}' {verb}. It is not on the appropriate screen, or unknown."
        )
        for name in fields
        if name not in known
    }
