"""The demo upstream: a tiny issue tracker with Jira's REST shape, to put behind
tokenward's reverse proxy and try tokens on.

- `GET /rest/api/2/issue/{key}`: one issue;
- `POST /rest/api/2/issue`: create one (a write);
- `PUT /rest/api/2/issue/{key}`: edit its summary or description (a write);
- `POST /rest/api/2/search` (and GET): search with a little JQL, a read done with
  POST that the `jira` read-only preset admits;
- `GET /rest/api/2/myself`: who the caller is, as the upstream learns it from
  tokenward's identity headers, and which kind of `Authorization` arrived (never
  its secret).

Reads are open; writes need a caller. Like a real upstream behind the gate, it
believes the identity headers: that is safe only because tokenward strips client
copies, and because nothing but tokenward can reach it (it listens on loopback).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenward.clock import Clock
from tokenward.demo.tracker import MAX_RESULTS, Issue, Tracker, TrackerError
from tokenward.gate.identity import IdentityHeaders

API = "/rest/api/2"
NOT_AUTHENTICATED = (
    "You are not authenticated. Authentication required to perform this operation."
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request says it comes from, as far as the demo can tell."""

    name: str | None
    groups: tuple[str, ...]
    token_id: str | None
    scope: str | None
    authorization: dict[str, str] | None  # the scheme, and a Basic username

    @property
    def known(self) -> bool:
        return self.name is not None or self.authorization is not None


def caller_of(request: Request, names: IdentityHeaders) -> Caller:
    """The caller from the identity headers, else from a Basic username."""
    headers = request.headers
    authorization = _describe(headers.get("authorization"))
    name = headers.get(names.user) or None
    if name is None and authorization is not None:
        name = authorization.get("username")
    groups = headers.get(names.groups, "")

    return Caller(
        name=name,
        groups=tuple(group for group in groups.split(",") if group),
        token_id=headers.get(names.token_id) or None,
        scope=headers.get(names.scope) or None,
        authorization=authorization,
    )


def create_demo_app(
    identity: IdentityHeaders | None = None, *, clock: Clock | None = None
) -> Starlette:
    """The demo tracker as an ASGI app, with fresh seed data."""
    names = identity or IdentityHeaders()
    tracker = Tracker(clock)

    async def get_issue(request: Request) -> Response:
        try:
            issue = tracker.get(request.path_params["key"])
        except TrackerError as error:
            return _error(404, error)

        return JSONResponse(_issue_json(request, issue))

    async def create_issue(request: Request) -> Response:
        caller = caller_of(request, names)
        if not caller.known:
            return _error(401, TrackerError([NOT_AUTHENTICATED]))
        try:
            fields = _fields(await _json(request))
            issue = tracker.create(fields, reporter=caller.name or "unknown")
        except TrackerError as error:
            return _error(400, error)
        url = _issue_url(request, issue)

        return JSONResponse(
            {"id": str(issue.id), "key": issue.key, "self": url}, status_code=201
        )

    async def edit_issue(request: Request) -> Response:
        if not caller_of(request, names).known:
            return _error(401, TrackerError([NOT_AUTHENTICATED]))
        try:
            issue = tracker.get(request.path_params["key"])
        except TrackerError as error:
            return _error(404, error)
        try:
            tracker.update(issue, _fields(await _json(request)))
        except TrackerError as error:
            return _error(400, error)

        return Response(status_code=204)

    async def search(request: Request) -> Response:
        query: dict[str, Any] = (
            await _json(request)
            if request.method == "POST"
            else dict(request.query_params)
        )
        try:
            start_at = _count(query.get("startAt", 0), "startAt")
            max_results = min(
                _count(query.get("maxResults", 50), "maxResults"), MAX_RESULTS
            )
            found = tracker.search(str(query.get("jql") or ""))
        except TrackerError as error:
            return _error(400, error)
        page = found[start_at : start_at + max_results]

        return JSONResponse(
            {
                "startAt": start_at,
                "maxResults": max_results,
                "total": len(found),
                "issues": [_issue_json(request, issue) for issue in page],
            }
        )

    async def myself(request: Request) -> Response:
        caller = caller_of(request, names)
        if not caller.known:
            return _error(401, TrackerError([NOT_AUTHENTICATED]))

        return JSONResponse(
            {
                "name": caller.name,
                "displayName": caller.name,
                "groups": list(caller.groups),
                "tokenId": caller.token_id,
                "scope": caller.scope,
                "authorization": caller.authorization,
            }
        )

    async def invalid_json(request: Request, error: Exception) -> Response:
        return _error(400, TrackerError([str(error)]))

    return Starlette(
        routes=[
            Route(f"{API}/issue", create_issue, methods=["POST"]),
            Route(f"{API}/issue/{{key}}", get_issue, methods=["GET"]),
            Route(f"{API}/issue/{{key}}", edit_issue, methods=["PUT"]),
            Route(f"{API}/search", search, methods=["GET", "POST"]),
            Route(f"{API}/myself", myself, methods=["GET"]),
        ],
        exception_handlers={_BadJSONError: invalid_json},
    )


class _BadJSONError(Exception):
    """The request body is not the JSON object the endpoint needs."""


async def _json(request: Request) -> dict[str, Any]:
    try:
        document = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _BadJSONError("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise _BadJSONError("The request body must be a JSON object.")

    return document


def _fields(document: dict[str, Any]) -> dict[str, Any]:
    fields = document.get("fields")
    if not isinstance(fields, dict):
        raise TrackerError(['The request needs a "fields" object.'])

    return fields


def _count(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TrackerError([f"{name} must be a whole number."]) from None
    if number < 0:
        raise TrackerError([f"{name} must not be negative."])

    return number


def _describe(authorization: str | None) -> dict[str, str] | None:
    """The kind of credential, never its secret: a scheme and a Basic username."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return {"scheme": scheme}
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return {"scheme": "Basic"}

    return {"scheme": "Basic", "username": decoded.partition(":")[0]}


def _issue_url(request: Request, issue: Issue) -> str:
    return f"{str(request.base_url).rstrip('/')}{API}/issue/{issue.id}"


def _issue_json(request: Request, issue: Issue) -> dict[str, Any]:
    return {
        "id": str(issue.id),
        "key": issue.key,
        "self": _issue_url(request, issue),
        "fields": {
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": {"name": issue.issue_type},
            "status": {"name": issue.status},
            "project": {"key": issue.project},
            "reporter": {"name": issue.reporter},
            "created": _jira_time(issue.created),
            "updated": _jira_time(issue.updated),
        },
    }


def _jira_time(moment: dt.datetime) -> str:
    """Jira's timestamp format: `2026-01-05T09:00:00.000+0000`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")


def _error(status: int, error: TrackerError) -> Response:
    return JSONResponse(
        {"errorMessages": error.messages, "errors": error.errors}, status_code=status
    )
