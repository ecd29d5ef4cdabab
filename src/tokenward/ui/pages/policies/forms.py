"""What every policy form shares: the `Part` contract, the error that carries
each field's problem, and the helpers that turn form text into a document."""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from tokenward.errors import InvalidInputError
from tokenward.ui.pages.base import Visit

Change = TypeVar("Change")
Values = dict[str, str]
# The value a ticked checkbox sends.
YES = "yes"
# The most breaking tokens listed on a preview; the counts cover all of them.
SHOWN_TOKENS = 500


class FormInvalidError(InvalidInputError):
    """A form that does not make a valid document. `problems` maps each form field
    (or "" for the form as a whole) to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class Part(abc.ABC, Generic[Change]):
    """One policy document as a form: its current values, how the form becomes a
    change, the dry run of that change, and how it is saved."""

    slug: str
    title: str
    summary: str

    @abc.abstractmethod
    async def current(self, visit: Visit) -> Values:
        """The form filled in from what is in force."""

    async def form_context(self, visit: Visit) -> dict[str, Any]:
        """What the form needs besides its values (the groups to offer, say)."""
        return {}

    @abc.abstractmethod
    def parse(self, values: Values) -> Change:
        """The change a form asks for; FormInvalidError if it is not valid."""

    @abc.abstractmethod
    async def preview(self, visit: Visit, change: Change) -> dict[str, Any]:
        """The dry run, as context for the preview page. Saves nothing."""

    @abc.abstractmethod
    async def save(self, visit: Visit, change: Change, choice: str) -> str:
        """Save the change; `choice` is what the preview asked for (an action on
        breaking tokens). Returns the notice key for the page shown next."""


def validated(model: type[BaseModel], raw: dict[str, Any], fields: Values) -> Any:
    """`raw` as a `model`, or FormInvalidError with each problem put next to the
    form field it is about (the nearest one named in `fields`)."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors():
            where = [str(part) for part in item["loc"]]
            message = str(item["msg"]).removeprefix("Value error, ")
            field = next(
                (
                    ".".join(where[:end])
                    for end in range(len(where), 0, -1)
                    if ".".join(where[:end]) in fields
                ),
                "",
            )
            text = f"{'.'.join(where)}: {message}" if where else message
            problems[field] = (
                f"{problems[field]}; {text}" if field in problems else text
            )
        raise FormInvalidError(problems) from None


def number(values: Values, name: str) -> str | None:
    """A number field: None when empty, else the text for the model to judge."""
    text = values.get(name, "").strip()

    return text or None


def lines(values: Values, name: str) -> list[str]:
    return [line.strip() for line in values.get(name, "").splitlines() if line.strip()]


def json_field(values: Values, name: str, empty: Any) -> Any:
    """A JSON text field parsed, `empty` when blank; FormInvalidError if it is not
    JSON, saying where."""
    text = values.get(name, "").strip()
    if not text:
        return empty
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FormInvalidError(
            {
                name: f"{name}: not valid JSON ({error.msg} at line {error.lineno}, "
                f"column {error.colno})"
            }
        ) from None


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Any]:
    """The settings that differ, as (name, before, after) texts."""
    old, new = _flat(before), _flat(after)

    return [
        (name, old.get(name, "(not set)"), new.get(name, "(not set)"))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]


def _flat(document: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{name}."))
        elif isinstance(value, list) and all(isinstance(i, str) for i in value):
            flat[name] = ", ".join(value) or "(none)"
        else:
            flat[name] = "(none)" if value is None else json.dumps(value)

    return flat
