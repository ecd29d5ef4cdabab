"""`tokenward policy …`: the policies administrators set.

`policy gate show` prints the gate policy; `policy gate impact` lists the tokens a
candidate policy's networks would strand; `policy gate set` replaces it from a JSON
file (the document `GET /api/v1/policies/gate` answers) and/or edits single fields:

    --set passwords=deny                       replace a field
    --set allowed_networks=10.0.0.0/8,fd00::/8 a list, comma-separated ('' empties it)
    --set token_only_paths+=/rest/api/**       add to a list
    --set read_only_presets-=git               remove from a list
    --set 'read_only_rules=[{"methods": ["POST"], "path": "/rest/x"}]'   JSON

The result is validated as a whole, exactly as the REST API does, before anything is
saved; an invalid result saves nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from tokenward.cli import token_policy
from tokenward.cli.documents import read_document
from tokenward.cli.output import print_json, print_table
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run
from tokenward.container import Container
from tokenward.policies.documents import GatePolicyDocument, ScopeRuleDocument
from tokenward.policies.impact import Impact
from tokenward.policies.schemas import ImpactOut

app = typer.Typer(help="Show and change policies.", no_args_is_help=True)
gate = typer.Typer(
    help="The gate policy: networks, passwords, token-only paths, read-only rules.",
    no_args_is_help=True,
)
app.add_typer(gate, name="gate")
app.add_typer(token_policy.app, name="tokens")

FIELDS = tuple(GatePolicyDocument.model_fields)
_LIST_FIELDS = frozenset(
    name
    for name, field in GatePolicyDocument.model_fields.items()
    if getattr(field.annotation, "__origin__", None) is list
)


@gate.command("show")
def show(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
    ] = False,
) -> None:
    """Print the gate policy in force (the defaults until one is saved)."""

    async def work(container: Container) -> GatePolicyDocument:
        return await container.gate_policy.get(OPERATOR)

    document = run(work)
    if as_json:
        print_json(document)
        return
    print_table(["setting", "value"], describe(document))


@gate.command("set")
def set_policy(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A JSON policy document that replaces the policy; - reads stdin.",
            allow_dash=True,
        ),
    ] = None,
    edits: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="Change one field: FIELD=VALUE, FIELD+=VALUE or FIELD-=VALUE. "
            "Repeat for more.",
        ),
    ] = None,
) -> None:
    """Replace the gate policy from --file, and/or edit the policy in force.

    Fields a file leaves out take their defaults. Edits apply after the file, in
    order. Nothing is saved unless the result is valid as a whole.
    """
    changes = [parse_edit(edit) for edit in edits or []]
    if file is None and not changes:
        raise typer.BadParameter("give --file PATH and/or --set FIELD=VALUE")
    base = None if file is None else read_document(file)

    async def work(container: Container) -> tuple[dict[str, Any], dict[str, Any]]:
        before = (await container.gate_policy.get(OPERATOR)).model_dump(mode="json")
        start = before if base is None else base
        document = validated(apply_edits(start, changes))
        after = document.model_dump(mode="json")
        if after != before:
            await container.gate_policy.replace(OPERATOR, ORIGIN, document)

        return before, after

    before, after = run(work)
    changed = [name for name in FIELDS if before[name] != after[name]]
    if not changed:
        typer.echo("the gate policy is unchanged")
        return
    for name in changed:
        typer.echo(f"{name}: {_shown(before[name])} -> {_shown(after[name])}")


@gate.command("impact")
def impact(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A JSON gate policy to judge instead of the one in force; - reads "
            "stdin.",
            allow_dash=True,
        ),
    ] = None,
    edits: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="Change one field, as `set` does. Repeat for more.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Owners per page.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Owners to skip.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
    ] = False,
) -> None:
    """Dry run: the active tokens whose own IP ranges would not lie within a
    candidate gate policy's allowed_networks, by owner. Nothing is saved."""
    changes = [parse_edit(edit) for edit in edits or []]
    base = None if file is None else read_document(file)

    async def work(container: Container) -> Impact:
        before = (await container.gate_policy.get(OPERATOR)).model_dump(mode="json")
        document = validated(apply_edits(before if base is None else base, changes))
        return await container.token_policy.gate_impact(OPERATOR, document)

    report = ImpactOut.of(run(work), limit=limit, offset=offset)
    if as_json:
        print_json(report)
        return
    token_policy.print_impact(report)


def describe(document: GatePolicyDocument) -> list[list[str]]:
    """Rows of (field, value) as people read them; field names are those of --set."""
    rows = [
        ["allowed_networks", ", ".join(document.allowed_networks) or "anywhere"],
        ["passwords", document.passwords],
        *(
            [name, ", ".join(getattr(document, name)) or "-"]
            for name in (
                "password_exempt_users",
                "password_exempt_groups",
                "password_exempt_paths",
                "password_exempt_networks",
                "token_only_paths",
                "read_only_presets",
            )
        ),
    ]
    rules = [
        f"{','.join(rule.methods)} {rule.path}"
        + (f"?{rule.query}" if rule.query else "")
        + (" is a read" if rule.read else " is a write")
        for rule in document.read_only_rules
    ]
    rows.append(["read_only_rules", rules[0] if rules else "-"])
    rows.extend(["", rule] for rule in rules[1:])

    return rows


Edit = tuple[str, str, str]  # field, operator ("=", "+=" or "-="), value


def parse_edit(text: str) -> Edit:
    """`FIELD=VALUE`, `FIELD+=VALUE` or `FIELD-=VALUE`, with FIELD a policy field."""
    name, separator, value = text.partition("=")
    if not separator:
        raise typer.BadParameter(f"{text!r} is not FIELD=VALUE", param_hint="--set")
    operator = "="
    if name.endswith(("+", "-")):
        name, operator = name[:-1], name[-1] + "="
    name = name.strip()
    if name not in FIELDS:
        raise typer.BadParameter(
            f"{name!r} is not a gate policy field; the fields are {', '.join(FIELDS)}",
            param_hint="--set",
        )
    if operator != "=" and name not in _LIST_FIELDS:
        raise typer.BadParameter(
            f"{name} is not a list: use {name}=VALUE", param_hint="--set"
        )

    return name, operator, value


def apply_edits(document: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    """`document` with `edits` applied in order; validation is left to the caller."""
    result = dict(document)
    for name, operator, text in edits:
        if name not in _LIST_FIELDS:
            result[name] = text
            continue
        items = _list_value(name, text)
        current = list(result.get(name, []))
        if operator == "+=":
            result[name] = current + [item for item in items if item not in current]
        elif operator == "-=":
            absent = [item for item in items if item not in current]
            if absent:
                fail(f"{name} does not contain {_shown(absent)}")
            result[name] = [item for item in current if item not in items]
        else:
            result[name] = items

    return result


def validated(data: dict[str, Any]) -> GatePolicyDocument:
    """The document `data` describes, or exit naming every problem."""
    try:
        return GatePolicyDocument.model_validate(data)
    except ValidationError as error:
        fail(f"invalid gate policy, nothing saved: {_problems(error)}")


def _list_value(name: str, text: str) -> list[Any]:
    """A list from the command line: a JSON array, or comma-separated items.

    Rules are normalised as the policy stores them, so that `-=` finds a rule
    written without its defaults.
    """
    if not text.lstrip().startswith("["):
        if name == "read_only_rules":
            example = '[{"methods": ["POST"], "path": "/x"}]'
            fail(f"{name} takes a JSON array, e.g. {example}")
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{name}: not a JSON array: {error}")
    if not isinstance(value, list):
        fail(f"{name}: not a JSON array")
    if name != "read_only_rules":
        return value
    rules = []
    for position, rule in enumerate(value):
        try:
            rules.append(ScopeRuleDocument.model_validate(rule).model_dump(mode="json"))
        except ValidationError as error:
            problems = _problems(error, f"{name}.{position}")
            fail(f"invalid gate policy, nothing saved: {problems}")

    return rules


def _problems(error: ValidationError, within: str | None = None) -> str:
    """Each problem as `field: message`, fields named as in the document."""
    problems = []
    for item in error.errors():
        field = ".".join([*([within] if within else []), *map(str, item["loc"])])
        problems.append(f"{field or 'policy'}: {item['msg']}")

    return "; ".join(problems)


def _shown(value: Any) -> str:
    return json.dumps(value)
