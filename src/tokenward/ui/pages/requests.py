"""Token requests (SPEC P7): ask for a token and follow it under /requests/mine;
decide other people's under /requests/queue.

The requester alone generates an approved token, so its secret is shown to them
and to nobody else, the deciding manager included.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tokenward.errors import InvalidInputError
from tokenward.policies.permissions import Permission
from tokenward.requests.models import RequestStatus
from tokenward.requests.rules import Approval, RequestSpec
from tokenward.tokens.attributes import Scope
from tokenward.ui.pages.base import Visit, page
from tokenward.ui.pages.tokens import lines, show_secret

MINE_NOTICES = {
    "requested": "Your request is sent. A token manager will approve or reject it.",
    "cancelled": "The request is withdrawn.",
}
QUEUE_NOTICES = {
    "approved": "Approved. The requester can now generate the token.",
    "rejected": "Rejected. The requester is told why.",
}
QUEUE_SIZE = 100
_REQUEST_FORM = ("label", "reason", "scope", "days", "never", "networks")
_DECISION_FORM = ("scope", "days", "networks", "reason")
# Service field names -> the form field that holds the value.
_FIELDS = {
    "label": "label",
    "reason": "reason",
    "scope": "scope",
    "lifetime_days": "days",
    "never_expires": "days",
    "allowed_networks": "networks",
    "days": "days",
}


def _scope(text: str, *, default: Scope | None) -> Scope | None:
    if not text:
        return default
    try:
        return Scope(text)
    except ValueError:
        raise InvalidInputError(
            "scope is read-write or read-only", field="scope"
        ) from None


def _days(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInputError("the lifetime is a whole number of days", field="days")

    return int(text)


def _field(error: InvalidInputError) -> str | None:
    return _FIELDS.get(error.field or "")


@page()
async def my_requests(visit: Visit) -> Response:
    return await _mine(visit)


async def _mine(
    visit: Visit,
    *,
    typed: Mapping[str, str] | None = None,
    problem: InvalidInputError | None = None,
) -> Response:
    actor = visit.person.actor
    found = await visit.services.token_requests.list_own(actor)

    return visit.render(
        "requests/mine.html",
        status=200 if problem is None else 422,
        notices=MINE_NOTICES,
        requests=found,
        may_request=actor.may(Permission.USE_TOKENS)
        and not actor.may(Permission.CREATE_OWN_TOKENS),
        may_create=actor.may(Permission.CREATE_OWN_TOKENS),
        typed=typed or {},
        error=problem.message if problem else None,
        error_field=_field(problem) if problem else None,
        now=visit.services.clock.now(),
    )


@page()
async def ask(visit: Visit) -> Response:
    typed = {name: visit.value(name) for name in _REQUEST_FORM}
    never = typed["never"] == "on"
    try:
        spec = RequestSpec(
            label=typed["label"],
            reason=typed["reason"],
            scope=_scope(typed["scope"], default=Scope.READ_WRITE) or Scope.READ_WRITE,
            lifetime_days=None if never else _days(typed["days"]),
            never_expires=never,
            allowed_networks=lines(typed["networks"]),
        )
        await visit.services.token_requests.create(
            visit.person.actor, visit.origin, spec
        )
    except InvalidInputError as error:
        return await _mine(visit, typed=typed, problem=error)

    return visit.redirect("/requests/mine", done="requested")


@page()
async def cancel(visit: Visit) -> Response:
    await visit.services.token_requests.cancel(
        visit.person.actor, visit.origin, visit.request.path_params["request_id"]
    )

    return visit.redirect("/requests/mine", done="cancelled")


@page()
async def generate(visit: Visit) -> Response:
    """Generate the approved token: its secret is on this answer and nowhere else."""
    issued = await visit.services.token_requests.fulfil(
        visit.person.actor, visit.origin, visit.request.path_params["request_id"]
    )

    return show_secret(visit, issued)


@page(needs=Permission.MANAGE_TOKENS)
async def queue(visit: Visit) -> Response:
    return await _queue(visit)


async def _queue(
    visit: Visit,
    *,
    failed: str | None = None,
    typed: Mapping[str, str] | None = None,
    problem: InvalidInputError | None = None,
) -> Response:
    """The pending requests, oldest first; `failed` names the request whose
    decision was refused, shown again with what was typed and the error."""
    pending = await visit.services.token_requests.queue(
        visit.person.actor, status=RequestStatus.PENDING, limit=QUEUE_SIZE
    )

    return visit.render(
        "requests/queue.html",
        status=200 if problem is None else 422,
        notices=QUEUE_NOTICES,
        requests=pending,
        more=len(pending) == QUEUE_SIZE,
        failed=failed,
        typed=typed or {},
        error=problem.message if problem else None,
        error_field=_field(problem) if problem else None,
        now=visit.services.clock.now(),
    )


@page(needs=Permission.MANAGE_TOKENS)
async def approve(visit: Visit) -> Response:
    """Approve as asked, or narrower: each empty field keeps what was asked."""
    request_id = visit.request.path_params["request_id"]
    typed = {name: visit.value(name) for name in _DECISION_FORM}
    typed["action"] = "approve"
    try:
        networks = lines(typed["networks"])
        approval = Approval(
            scope=_scope(typed["scope"], default=None),
            lifetime_days=_days(typed["days"]),
            allowed_networks=networks or None,
            reason=typed["reason"],
        )
        await visit.services.token_requests.approve(
            visit.person.actor, visit.origin, request_id, approval
        )
    except InvalidInputError as error:
        return await _queue(visit, failed=request_id, typed=typed, problem=error)

    return visit.redirect("/requests/queue", done="approved")


@page(needs=Permission.MANAGE_TOKENS)
async def reject(visit: Visit) -> Response:
    request_id = visit.request.path_params["request_id"]
    typed = {"reason": visit.value("reason"), "action": "reject"}
    try:
        await visit.services.token_requests.reject(
            visit.person.actor, visit.origin, request_id, typed["reason"]
        )
    except InvalidInputError as error:
        return await _queue(visit, failed=request_id, typed=typed, problem=error)

    return visit.redirect("/requests/queue", done="rejected")


routes: list[BaseRoute] = [
    Route("/requests/mine", my_requests, methods=["GET"]),
    Route("/requests/mine", ask, methods=["POST"]),
    Route("/requests/queue", queue, methods=["GET"]),
    Route("/requests/{request_id:str}/cancel", cancel, methods=["POST"]),
    Route("/requests/{request_id:str}/token", generate, methods=["POST"]),
    Route("/requests/{request_id:str}/approve", approve, methods=["POST"]),
    Route("/requests/{request_id:str}/reject", reject, methods=["POST"]),
]
