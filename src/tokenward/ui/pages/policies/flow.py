"""The steps every policy part goes through: the form, its preview, back to the
form, and saving what was previewed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tokenward.errors import InvalidInputError, NotFoundError
from tokenward.policies.permissions import Permission
from tokenward.ui.pages.base import CSRF_FIELD, Visit, page
from tokenward.ui.pages.policies.forms import FormInvalidError, Part, Values

ADMIN = Permission.ADMINISTER
_NOTICES = {
    "saved": "Saved. The change is in force and in the audit log.",
    "kept": "Saved. The tokens that break it were kept as they are.",
    "shortened": "Saved. The tokens that break it were shortened; each is audited.",
    "revoked": "Saved. The tokens that break it were revoked; each is audited.",
}


def policy_routes(parts: Sequence[Part[Any]]) -> list[BaseRoute]:
    """The overview of `parts` and the four routes of each."""

    @page(needs=ADMIN)
    async def overview(visit: Visit) -> Response:
        return visit.render("policies/index.html", parts=parts)

    return [
        Route("/policies", overview, methods=["GET"], name="policies"),
        *(route for part in parts for route in _routes(part)),
    ]


def _typed(visit: Visit) -> Values:
    """The form as sent, untrimmed (JSON and lists keep their layout)."""
    return {
        name: value
        for name, value in visit.form.multi_items()
        if isinstance(value, str) and name not in (CSRF_FIELD, "action")
    }


def _carried(visit: Visit) -> Values:
    """The form a preview page carried in its hidden field."""
    try:
        carried = json.loads(visit.value("carried"))
    except ValueError:
        carried = None
    if not isinstance(carried, dict) or not all(
        isinstance(key, str) and isinstance(value, str)
        for key, value in carried.items()
    ):
        raise InvalidInputError("this preview is damaged; start the change again")

    return carried


async def _edit(
    visit: Visit,
    part: Part[Any],
    values: Values,
    problems: Mapping[str, str] | None = None,
) -> Response:
    return visit.render(
        f"policies/{part.slug}.html",
        status=422 if problems else 200,
        notices=_NOTICES,
        part=part,
        values=values,
        problems=dict(problems or {}),
        **await part.form_context(visit),
    )


async def _preview(
    visit: Visit, part: Part[Any], values: Values, change: Any, choice_problem: str = ""
) -> Response:
    return visit.render(
        "policies/preview.html",
        status=422 if choice_problem else 200,
        part=part,
        carried=json.dumps(values),
        choice_problem=choice_problem,
        **await part.preview(visit, change),
    )


def _routes(part: Part[Any]) -> list[BaseRoute]:
    base = f"/policies/{part.slug}"

    @page(needs=ADMIN)
    async def show(visit: Visit) -> Response:
        return await _edit(visit, part, await part.current(visit))

    @page(needs=ADMIN)
    async def back(visit: Visit) -> Response:
        return await _edit(visit, part, _carried(visit))

    @page(needs=ADMIN)
    async def preview(visit: Visit) -> Response:
        values = _typed(visit)
        try:
            change = part.parse(values)
            return await _preview(visit, part, values, change)
        except FormInvalidError as error:
            return await _edit(visit, part, values, error.problems)
        except (InvalidInputError, NotFoundError) as error:
            return await _edit(visit, part, values, {_field(error): error.message})

    @page(needs=ADMIN)
    async def apply(visit: Visit) -> Response:
        values = _carried(visit)
        try:
            change = part.parse(values)
        except FormInvalidError as error:
            return await _edit(visit, part, values, error.problems)
        try:
            done = await part.save(visit, change, visit.value("action"))
        except FormInvalidError as error:
            problem = error.problems.get("action", error.message)
            return await _preview(visit, part, values, change, problem)
        except (InvalidInputError, NotFoundError) as error:
            return await _edit(visit, part, values, {_field(error): error.message})

        return visit.redirect(base, done=done)

    name = f"policies_{part.slug}"
    return [
        Route(base, show, methods=["GET"], name=name),
        Route(f"{base}/edit", back, methods=["POST"], name=f"{name}_edit"),
        Route(f"{base}/preview", preview, methods=["POST"], name=f"{name}_preview"),
        Route(f"{base}/apply", apply, methods=["POST"], name=f"{name}_apply"),
    ]


def _field(error: InvalidInputError | NotFoundError) -> str:
    return getattr(error, "field", None) or ""
