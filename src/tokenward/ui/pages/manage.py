"""The Token Manager: find any user's tokens, revoke one or many after a
confirmation, and create a token for a user (SPEC T5, I1).

The search lives in the query string, so a result page can be bookmarked, and
every link and form on it carries the filters along. Revoking never happens on
the first POST: the selection is shown back first, and only the confirmation's
own form changes anything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from tokenward.directory.errors import UserNotFoundError
from tokenward.errors import InvalidInputError
from tokenward.policies.permissions import Permission
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token
from tokenward.tokens.queries import TokenFilter, TokenSort
from tokenward.tokens.services import MAX_PAGE
from tokenward.ui.pages.base import Visit, page
from tokenward.ui.pages.tokens import show_secret, spec_from_form

NOTICES = {"revoked": "The tokens are revoked. Calls with them are refused from now."}
FILTERS = (
    "users",
    "label",
    "status",
    "scope",
    "expires_after",
    "expires_before",
    "used_since",
    "unused_since",
    "never_used",
    "sort",
    "order",
    "limit",
    "offset",
)
PAGE_SIZES = (25, 50, 100, 200, 500)
DEFAULT_LIMIT = 50
MAX_USERS = 100
MAX_REASON = 1000
_NAMES = re.compile(r"[\s,]+")
# Service field names -> the field of the create form that holds the value.
_CREATE_FIELDS = {
    "owner": "owner",
    "label": "label",
    "scope": "scope",
    "days": "days",
    "expires_in_days": "days",
    "expires_at": "days",
    "never_expires": "days",
    "allowed_networks": "networks",
    "header_restrictions": "headers",
}


def criteria_from(typed: Mapping[str, str]) -> TokenFilter:
    """The search that the filter form's text asks for; InvalidInputError names
    the field that cannot be read."""
    owners = [name for name in _NAMES.split(typed.get("users", "")) if name]
    if len(owners) > MAX_USERS:
        raise InvalidInputError(
            f"name at most {MAX_USERS} users at once", field="users"
        )
    try:
        sort = TokenSort(typed.get("sort") or TokenSort.CREATED)
    except ValueError:
        raise InvalidInputError("choose a listed order", field="sort") from None
    if typed.get("order", "desc") not in ("asc", "desc", ""):
        raise InvalidInputError("order is asc or desc", field="order")
    scope_text = typed.get("scope", "")
    if scope_text and scope_text not in tuple(Scope):
        raise InvalidInputError("scope is read-write or read-only", field="scope")
    day_after = dt.timedelta(days=1)
    expires_before = _date(typed, "expires_before")

    return TokenFilter(
        owners=owners,
        label=typed.get("label") or None,
        status=typed.get("status") or None,
        scope=Scope(scope_text) if scope_text else None,
        expires_after=_date(typed, "expires_after"),
        # "On or before" a day includes the whole of that day.
        expires_before=expires_before + day_after if expires_before else None,
        used_since=_date(typed, "used_since"),
        unused_since=_date(typed, "unused_since"),
        never_used=typed.get("never_used") == "on",
        sort=sort,
        descending=typed.get("order", "desc") != "asc",
        limit=_number(typed, "limit", DEFAULT_LIMIT, 1, MAX_PAGE),
        offset=_number(typed, "offset", 0, 0, 10**9),
    )


def _date(typed: Mapping[str, str], name: str) -> dt.datetime | None:
    """A YYYY-MM-DD field as midnight UTC, the zone every date on the page is in."""
    text = typed.get(name, "")
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{text!r} is not a date: use YYYY-MM-DD", field=name
        ) from None

    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _number(
    typed: Mapping[str, str], name: str, default: int, low: int, high: int
) -> int:
    text = typed.get(name, "")
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInputError(f"{name} is a whole number {low}-{high}", field=name)

    return int(text)


def search_link(typed: Mapping[str, str], **changes: str | int) -> str:
    """/manage with the current filters, some of them changed; empty ones left out."""
    values = {**typed, **{name: str(value) for name, value in changes.items()}}
    kept = [(name, values[name]) for name in FILTERS if values.get(name)]

    return "/manage" + (f"?{urlencode(kept)}" if kept else "")


def _typed_from(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {name: value.strip() for name, value in pairs if name in FILTERS}


@page(needs=Permission.MANAGE_TOKENS)
async def token_manager(visit: Visit) -> Response:
    return await _list(visit, _typed_from(list(visit.request.query_params.items())))


async def _list(
    visit: Visit,
    typed: dict[str, str],
    *,
    problem: InvalidInputError | None = None,
    reason: str = "",
) -> Response:
    tokens: list[Token] = []
    total, criteria = 0, None
    try:
        criteria = criteria_from(typed)
        found, total = await visit.services.tokens.search(visit.person.actor, criteria)
        tokens = list(found)
    except InvalidInputError as error:
        problem = error
    limit = criteria.limit if criteria else DEFAULT_LIMIT
    offset = criteria.offset if criteria else 0

    return visit.render(
        "manage/list.html",
        status=200 if problem is None else 422,
        notices=NOTICES,
        tokens=tokens,
        total=total,
        searched=criteria is not None,
        limit=limit,
        offset=offset,
        previous_offset=max(offset - limit, 0) if offset > 0 else None,
        next_offset=offset + limit if offset + limit < total else None,
        typed=typed,
        back=urlencode([(name, typed[name]) for name in FILTERS if typed.get(name)]),
        link=lambda **changes: search_link(typed, **changes),
        sorts=list(TokenSort),
        page_sizes=PAGE_SIZES,
        error=problem.message if problem else None,
        error_field=problem.field if problem else None,
        reason=reason,
        now=visit.services.clock.now(),
    )


@page(needs=Permission.MANAGE_TOKENS)
async def confirm_revoke(visit: Visit) -> Response:
    """The confirmation: what would be revoked. Reached by GET from a row's link,
    or by POST from the ticked boxes; neither changes anything."""
    if visit.request.method == "GET":
        params = visit.request.query_params
        token_ids = [item for item in params.getlist("token_id") if item.strip()]
        back, reason = params.get("back", ""), params.get("reason", "")
    else:
        token_ids = visit.values("token_id")
        back, reason = visit.value("back"), visit.value("reason")
    if not token_ids:
        typed = _typed_from(parse_qsl(back))
        problem = InvalidInputError(
            "tick at least one token to revoke", field="token_id"
        )
        return await _list(visit, typed, problem=problem, reason=reason)

    return await _confirmation(visit, token_ids, back=back, reason=reason)


async def _confirmation(
    visit: Visit,
    token_ids: list[str],
    *,
    back: str,
    reason: str,
    problem: InvalidInputError | None = None,
) -> Response:
    if len(token_ids) > MAX_PAGE:
        raise InvalidInputError(f"revoke at most {MAX_PAGE} tokens at once")
    criteria = TokenFilter(token_ids=token_ids, limit=MAX_PAGE, sort=TokenSort.OWNER)
    found, _ = await visit.services.tokens.search(visit.person.actor, criteria)
    live = [token for token in found if token.revoked_at is None]

    return visit.render(
        "manage/revoke.html",
        status=200 if problem is None else 422,
        live=live,
        done=[token for token in found if token.revoked_at is not None],
        missing=len(set(token_ids)) - len(found),
        back=urlencode(_typed_from(parse_qsl(back))),
        reason=reason,
        error=problem.message if problem else None,
        now=visit.services.clock.now(),
    )


@page(needs=Permission.MANAGE_TOKENS)
async def revoke(visit: Visit) -> Response:
    """Revoke the confirmed tokens, all or none, then back to the same search."""
    token_ids, reason = visit.values("token_id"), visit.value("reason")
    back = _typed_from(parse_qsl(visit.value("back")))
    if len(reason) > MAX_REASON:
        problem = InvalidInputError(
            f"a reason is at most {MAX_REASON} characters", field="reason"
        )
        return await _confirmation(
            visit, token_ids, back=urlencode(back), reason=reason, problem=problem
        )
    await visit.services.tokens.revoke(
        visit.person.actor, visit.origin, token_ids, reason=reason, managed=True
    )
    target = search_link({**back, "offset": ""})
    separator = "&" if "?" in target else "?"

    return RedirectResponse(f"{target}{separator}done=revoked", status_code=303)


@page(needs=Permission.MANAGE_TOKENS)
async def new_token_form(visit: Visit) -> Response:
    owner = visit.request.query_params.get("owner", "").strip()

    return _create_form(visit, {"owner": owner})


def _create_form(
    visit: Visit,
    typed: dict[str, str],
    *,
    problem: InvalidInputError | None = None,
) -> Response:
    field = _CREATE_FIELDS.get(problem.field or "") if problem else None

    return visit.render(
        "manage/new.html",
        status=200 if problem is None else 422,
        typed=typed,
        error=problem.message if problem else None,
        error_field=field,
    )


@page(needs=Permission.MANAGE_TOKENS)
async def create_for_user(visit: Visit) -> Response:
    """Create the token and show its secret, once, on this answer."""
    typed = {
        name: visit.value(name)
        for name in ("owner", "label", "scope", "days", "never", "networks", "headers")
    }
    if not typed["owner"]:
        problem = InvalidInputError("name the user who will own it", field="owner")
        return _create_form(visit, typed, problem=problem)
    try:
        issued = await visit.services.tokens.create(
            visit.person.actor,
            visit.origin,
            spec_from_form(visit),
            owner=typed["owner"],
        )
    except UserNotFoundError:
        problem = InvalidInputError(
            f"there is no user {typed['owner']!r}", field="owner"
        )
        return _create_form(visit, typed, problem=problem)
    except InvalidInputError as error:
        return _create_form(visit, typed, problem=error)

    return show_secret(visit, issued)


routes: list[BaseRoute] = [
    Route("/manage", token_manager, methods=["GET"]),
    Route("/manage/revoke", confirm_revoke, methods=["GET", "POST"]),
    Route("/manage/revoke/confirm", revoke, methods=["POST"]),
    Route("/manage/new", new_token_form, methods=["GET"]),
    Route("/manage/new", create_for_user, methods=["POST"]),
]
