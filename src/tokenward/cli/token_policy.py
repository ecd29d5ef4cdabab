"""`tokenward policy tokens …`: lifetimes per tier and group, scope, count and
inactivity (SPEC P3-P5).

`show` prints the policy in force. `impact` is the dry run: which active tokens a
candidate policy would break, by owner. `set` saves a policy that breaks no token
the policy in force does not already break; `apply --action keep|shorten|revoke`
saves any policy and acts on the tokens it breaks. The candidate is the policy in
force, or a JSON file (`--file`, `-` for stdin), with edits applied in order:

    --set tiers.self.max_days=90                    a value (JSON, or a word)
    --set group_overrides.integrations.manager.max_days=730
    --set 'group_overrides.contractors={"self": {"max_days": 30}}'
    --set max_active_tokens_per_user=null           back to "no limit"
    --unset group_overrides.contractors             remove; a field takes its default

`expire-inactive` runs the inactivity expiry now, as the scheduled job does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from tokenward.cli.documents import read_document
from tokenward.cli.output import print_json, print_table, when
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run
from tokenward.container import Container
from tokenward.policies.governance import DEFAULT_GRACE_DAYS, Action
from tokenward.policies.impact import Impact
from tokenward.policies.schemas import ImpactOut, InactivityRun, TokenPolicyApplied
from tokenward.policies.token_policy import TierRule, TokenPolicyDocument
from tokenward.tokens.attributes import Tier

app = typer.Typer(
    help="The token policy: lifetimes per tier and group, scope, count, inactivity.",
    no_args_is_help=True,
)

FIELDS = tuple(TokenPolicyDocument.model_fields)
_TIERS = frozenset(str(tier) for tier in Tier)

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="A JSON token policy to start from instead of the one in force; "
        "- reads stdin.",
        allow_dash=True,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Set one value, e.g. tiers.self.max_days=90. Repeat for more.",
    ),
]
UnsetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--unset",
        metavar="PATH",
        help="Remove one value so it takes its default. Repeat for more.",
    ),
]
GraceOption = Annotated[
    int,
    typer.Option(
        "--grace-days",
        min=0,
        max=90,
        help="shorten: tokens whose new end is past, or that break the scope or "
        "count, end this many days from now.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
]


@app.command("show")
def show(as_json: JsonOption = False) -> None:
    """Print the token policy in force (the defaults until one is saved)."""

    async def work(container: Container) -> tuple[TokenPolicyDocument, int]:
        policy = await container.token_policy.get(OPERATOR)
        return policy, container.settings.default_token_lifetime_days

    document, instance_days = run(work)
    if as_json:
        print_json(document)
        return
    print_table(["setting", "value"], describe(document, instance_days))


@app.command("set")
def set_policy(
    file: FileOption = None, edits: SetOption = None, unsets: UnsetOption = None
) -> None:
    """Save a token policy that breaks no active token the policy in force does
    not already break; otherwise say how many it would, and save nothing."""
    base, changes = _inputs(file, edits, unsets, required=True)

    async def work(container: Container) -> bool:
        before = await container.token_policy.get(OPERATOR)
        document = candidate(before, base, changes)
        if document == before:
            return False
        await container.token_policy.replace(OPERATOR, ORIGIN, document)
        return True

    if not run(work):
        typer.echo("the token policy is unchanged")
        return
    typer.echo("the token policy is saved")


@app.command("impact")
def impact(
    *,
    file: FileOption = None,
    edits: SetOption = None,
    unsets: UnsetOption = None,
    grace_days: GraceOption = DEFAULT_GRACE_DAYS,
    limit: Annotated[int, typer.Option(min=1, help="Owners per page.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Owners to skip.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Dry run: the active tokens a candidate policy would break, by owner.

    Without --file, --set or --unset the candidate is the policy in force, so this
    lists the tokens it breaks now (those kept when it was applied).
    """
    base, changes = _inputs(file, edits, unsets, required=False)

    async def work(container: Container) -> Impact:
        document = candidate(await container.token_policy.get(OPERATOR), base, changes)
        return await container.token_policy.impact(
            OPERATOR, document, grace_days=grace_days
        )

    report = ImpactOut.of(run(work), limit=limit, offset=offset)
    if as_json:
        print_json(report)
        return
    print_impact(report)


@app.command("apply")
def apply(
    *,
    action: Annotated[
        Action,
        typer.Option(
            "--action", help="What to do to the active tokens the policy breaks."
        ),
    ],
    file: FileOption = None,
    edits: SetOption = None,
    unsets: UnsetOption = None,
    grace_days: GraceOption = DEFAULT_GRACE_DAYS,
    as_json: JsonOption = False,
) -> None:
    """Save a token policy and keep, shorten or revoke the tokens it breaks."""
    base, changes = _inputs(file, edits, unsets, required=False)

    async def work(container: Container) -> TokenPolicyApplied:
        document = candidate(await container.token_policy.get(OPERATOR), base, changes)
        applied = await container.token_policy.apply(
            OPERATOR, ORIGIN, document, action, grace_days=grace_days
        )
        return TokenPolicyApplied.of(applied)

    applied = run(work)
    if as_json:
        print_json(applied)
        return
    typer.echo(f"the token policy is saved; {_summary(applied.tokens, applied.owners)}")
    if applied.shortened:
        typer.echo(f"shortened: {len(applied.shortened)}")
    if applied.revoked:
        typer.echo(f"revoked: {len(applied.revoked)}")


@app.command("expire-inactive")
def expire_inactive(as_json: JsonOption = False) -> None:
    """Expire now the tokens unused for the policy's inactivity_days."""

    async def work(container: Container) -> list[str]:
        return await container.token_policy.expire_inactive(actor=OPERATOR)

    expired = run(work)
    if as_json:
        print_json(InactivityRun(expired=expired))
        return
    typer.echo(f"expired {len(expired)} inactive tokens")
    for token_id in expired:
        typer.echo(token_id)


def describe(document: TokenPolicyDocument, instance_days: int) -> list[list[str]]:
    """Rows of (setting, value) as people read them, named as --set names them."""
    rows = [
        [f"tiers.{tier}", _rule(rule, instance_days)]
        for tier, rule in document.tiers.items()
    ]
    rows.extend(
        [f"group_overrides.{group}.{tier}", _rule(rule, instance_days)]
        for group, rules in document.group_overrides.items()
        for tier, rule in rules.items()
    )
    limit = document.max_active_tokens_per_user
    inactivity = document.inactivity_days
    rows += [
        [
            "force_read_only_for_self",
            "yes" if document.force_read_only_for_self else "no",
        ],
        ["max_active_tokens_per_user", "no limit" if limit is None else str(limit)],
        ["inactivity_days", "off" if inactivity is None else str(inactivity)],
    ]

    return rows


def _rule(rule: TierRule, instance_days: int) -> str:
    maximum = "no maximum" if rule.max_days is None else f"max {rule.max_days} days"
    if rule.default_days is not None:
        default = f"default {rule.default_days} days"
    else:
        days = min(instance_days, rule.max_days or instance_days)
        default = f"default {days} days (the instance's)"
    never = "never expires: allowed" if rule.allows_never_expiring() else "must expire"

    return f"{maximum}, {default}, {never}"


def print_impact(report: ImpactOut) -> None:
    """The dry run as people read it: totals, then one line per breaking token."""
    reasons = ", ".join(f"{name} {count}" for name, count in report.by_reason.items())
    typer.echo(
        _summary(report.tokens, report.owners) + (f" ({reasons})" if reasons else "")
    )
    if not report.items:
        return
    rows = [
        [
            owner.owner,
            token.id,
            token.label,
            token.tier,
            ",".join(token.reasons),
            when(token.expires_at, missing="never"),
            when(token.shortened_expiry),
            ",".join(token.outside_networks) or "-",
        ]
        for owner in report.items
        for token in owner.items
    ]
    typer.echo("")
    print_table(
        [
            "owner",
            "token",
            "label",
            "tier",
            "reasons",
            "expires",
            "if shortened",
            "outside",
        ],
        rows,
    )
    shown = report.offset + len(report.items)
    if shown < report.owners:
        typer.echo(f"\nowners {report.offset + 1}-{shown} of {report.owners}")


def _summary(tokens: int, owners: int) -> str:
    if tokens == 0:
        return "no active token breaks the policy"
    noun = "token" if tokens == 1 else "tokens"
    users = "user" if owners == 1 else "users"
    verb = "breaks" if tokens == 1 else "break"

    return f"{tokens} active {noun} of {owners} {users} {verb} the policy"


Edit = tuple[str, list[str], Any]  # "set" or "unset", the path, the value


def _inputs(
    file: Path | None,
    edits: list[str] | None,
    unsets: list[str] | None,
    *,
    required: bool,
) -> tuple[dict[str, Any] | None, list[Edit]]:
    changes = [parse_set(edit) for edit in edits or []]
    changes += [("unset", parse_path(path, "--unset"), None) for path in unsets or []]
    if required and file is None and not changes:
        raise typer.BadParameter("give --file PATH and/or --set/--unset")

    return (None if file is None else read_document(file)), changes


def parse_path(text: str, option: str) -> list[str]:
    """A dotted path into the document; group names may contain dots."""
    parts = text.strip().split(".")
    if parts[0] not in FIELDS:
        raise typer.BadParameter(
            f"{parts[0]!r} is not a token policy field; the fields are "
            f"{', '.join(FIELDS)}",
            param_hint=option,
        )
    if parts[0] != "group_overrides" or len(parts) <= 2:
        return parts
    if parts[-1] in _TIERS:
        return [parts[0], ".".join(parts[1:-1]), parts[-1]]
    if len(parts) >= 4 and parts[-2] in _TIERS:
        return [parts[0], ".".join(parts[1:-2]), parts[-2], parts[-1]]

    return [parts[0], ".".join(parts[1:])]


def parse_set(text: str) -> Edit:
    """`PATH=VALUE`; VALUE is JSON (90, true, null, {...}) or else a plain word."""
    path, separator, value = text.partition("=")
    if not separator:
        raise typer.BadParameter(f"{text!r} is not PATH=VALUE", param_hint="--set")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value.strip()

    return "set", parse_path(path, "--set"), parsed


def candidate(
    current: TokenPolicyDocument, base: dict[str, Any] | None, edits: list[Edit]
) -> TokenPolicyDocument:
    """The policy to judge or save: `base` (or `current`) with `edits` applied,
    validated as a whole, or exit naming every problem."""
    data = current.model_dump(mode="json") if base is None else base
    for kind, path, value in edits:
        parent = data
        for key in path[:-1]:
            child = parent.get(key)
            if not isinstance(child, dict):
                if kind == "unset":
                    fail(f"{'.'.join(path)} is not set")
                child = parent[key] = {}
            parent = child
        if kind == "set":
            parent[path[-1]] = value
        elif path[-1] in parent:
            del parent[path[-1]]
        else:
            fail(f"{'.'.join(path)} is not set")
    try:
        return TokenPolicyDocument.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc'])) or 'policy'}: {item['msg']}"
            for item in error.errors()
        )
        fail(f"invalid token policy, nothing saved: {problems}")
