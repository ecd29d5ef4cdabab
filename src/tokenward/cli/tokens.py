"""`tokenward token …`: create, list, show, revoke, rotate and check tokens.

Everything but `check` acts as the operator, a token manager for every user.
`check` is offline: it reads neither the database nor the instance secret.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from tokenward.cli.output import print_json, print_secret_block, print_table, when
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run, settings_or_fail
from tokenward.container import Container
from tokenward.tokens import format
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token
from tokenward.tokens.queries import TokenFilter
from tokenward.tokens.schemas import IssuedTokenOut, TokenList, TokenOut, TokenPage
from tokenward.tokens.specs import IssuedToken, TokenSpec

app = typer.Typer(help="Create, list, revoke, rotate and check tokens.")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
]


def parse_expiry(value: str | None) -> dt.datetime | None:
    """An ISO 8601 time from the command line; the service insists on a zone."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time (e.g. 2027-01-31T00:00:00Z)",
            param_hint="--expires-at",
        ) from None


def parse_headers(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs into a mapping; the service validates names and values."""
    headers: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise typer.BadParameter(
                f"{pair!r} is not NAME=VALUE", param_hint="--header"
            )
        headers[name.strip()] = value

    return headers


def _print_issued(container: Container, issued: IssuedToken, *, as_json: bool) -> None:
    now = container.clock.now()
    if as_json:
        print_json(
            IssuedTokenOut(token=TokenOut.of(issued.token, now), secret=issued.secret)
        )
        return
    token = issued.token
    typer.echo(f"token id:  {token.id}")
    typer.echo(f"owner:     {token.owner.username}")
    typer.echo(f"label:     {token.label}")
    typer.echo(f"scope:     {token.scope}")
    typer.echo(f"expires:   {when(token.expires_at, missing='never')}")
    typer.echo("")
    print_secret_block("The token (shown now and never again):", issued.secret)


@app.command()
def create(
    *,
    user: Annotated[str, typer.Option("--user", help="Username of the owner.")],
    label: Annotated[str, typer.Option(help="The service the token is for.")],
    scope: Annotated[Scope, typer.Option(help="What the token may do.")] = (
        Scope.READ_WRITE
    ),
    expires_in_days: Annotated[
        int | None, typer.Option(help="Expire this many days from now.")
    ] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="Expire at this ISO 8601 time, with a zone.")
    ] = None,
    never_expires: Annotated[
        bool, typer.Option("--never-expires", help="Never expire.")
    ] = False,
    network: Annotated[
        list[str] | None,
        typer.Option(help="A CIDR range it may be used from; repeat for more."),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE every request must carry; repeat for more."),
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option(help="At most this many requests a minute.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token for USER and print its secret, once."""
    spec = TokenSpec(
        label=label,
        scope=scope,
        expires_at=parse_expiry(expires_at),
        expires_in_days=expires_in_days,
        never_expires=never_expires,
        allowed_networks=list(network or []),
        header_restrictions=parse_headers(list(header or [])),
        rate_limit_per_minute=rate_limit,
    )

    async def work(container: Container) -> None:
        issued = await container.tokens.create(OPERATOR, ORIGIN, spec, owner=user)
        _print_issued(container, issued, as_json=as_json)

    run(work)


@app.command("list")
def list_tokens(
    *,
    user: Annotated[
        list[str] | None, typer.Option(help="Only this user's; repeat for more.")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="active, expired or revoked.")
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Labels containing this text.")
    ] = None,
    scope: Annotated[Scope | None, typer.Option(help="Only this scope.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List tokens of every user, newest first."""
    criteria = TokenFilter(
        owners=list(user or []),
        label=label,
        status=status,
        scope=scope,
        limit=limit,
        offset=offset,
    )

    async def work(container: Container) -> None:
        tokens, total = await container.tokens.search(OPERATOR, criteria)
        now = container.clock.now()
        if as_json:
            items = [TokenOut.of(token, now) for token in tokens]
            print_json(TokenPage(items=items, total=total, limit=limit, offset=offset))
            return
        _print_tokens(tokens, now)
        if total > offset + len(tokens):
            typer.echo(
                f"({len(tokens)} of {total} shown; use --offset and --limit for more)"
            )

    run(work)


@app.command()
def show(token_id: str, as_json: JsonOption = False) -> None:
    """Show one token by its id (never its secret, which is not stored)."""

    async def work(container: Container) -> None:
        token = await container.tokens.get(OPERATOR, token_id, managed=True)
        out = TokenOut.of(token, container.clock.now())
        if as_json:
            print_json(out)
            return
        fields = out.model_dump(mode="json")
        width = max(len(name) for name in fields) + 2
        for name, value in fields.items():
            typer.echo(f"{name + ':':<{width}}{_plain(value)}")

    run(work)


@app.command()
def revoke(
    token_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="TOKEN_ID", help="Ids of the tokens to revoke."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="With --all: whose tokens.")
    ] = None,
    revoke_all: Annotated[
        bool, typer.Option("--all", help="Revoke every token of --user.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why, for the audit record.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Revoke the named tokens, or every token of a user with --user NAME --all."""
    ids = list(token_ids or [])
    if revoke_all == bool(ids) or (user is not None) != revoke_all:
        raise typer.BadParameter("give token ids, or --user NAME --all")

    async def work(container: Container) -> None:
        if user is not None:
            tokens = await container.tokens.revoke_all(
                OPERATOR, ORIGIN, owner=user, reason=reason
            )
        else:
            tokens = await container.tokens.revoke(
                OPERATOR, ORIGIN, ids, reason=reason, managed=True
            )
        now = container.clock.now()
        if as_json:
            print_json(TokenList(items=[TokenOut.of(token, now) for token in tokens]))
            return
        for token in tokens:
            typer.echo(f"{token.id} is revoked ({token.owner.username}, {token.label})")
        if not tokens:
            typer.echo("no token was left to revoke")

    run(work)


@app.command()
def rotate(
    token_id: str,
    grace_seconds: Annotated[
        int, typer.Option(min=0, help="How long the old secret keeps working.")
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Give a token a new secret with the same attributes, and print it once."""

    async def work(container: Container) -> None:
        grace = dt.timedelta(seconds=grace_seconds) if grace_seconds else None
        issued = await container.tokens.rotate(
            OPERATOR, ORIGIN, token_id, grace=grace, managed=True
        )
        if not as_json:
            ending = f"in {grace_seconds} s" if grace else "now"
            typer.echo(f"{token_id} was rotated; its old secret stops working {ending}")
        _print_issued(container, issued, as_json=as_json)

    run(work)


@app.command()
def check(
    candidate: Annotated[
        str | None,
        typer.Argument(
            metavar="TOKEN",
            help="The string to check, or - to read it from standard input.",
        ),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Also require this prefix.")
    ] = None,
    pattern: Annotated[
        bool,
        typer.Option("--pattern", help="Print the regular expression for scanners."),
    ] = False,
) -> None:
    """Check a token's shape and checksum offline; exit 1 if it is malformed.

    This reads neither the database nor the instance secret, so it says nothing about
    whether the token exists or works: only whether it could be a token at all.
    """
    if pattern:
        typer.echo(format.scanner_pattern(prefix or settings_or_fail().token_prefix))
    if candidate is None:
        if not pattern:
            raise typer.BadParameter("give a TOKEN to check, or --pattern")
        return
    text = sys.stdin.readline().strip() if candidate == "-" else candidate.strip()
    try:
        parsed = format.parse(text, prefix=prefix)
    except format.MalformedTokenError as error:
        fail(f"not a well-formed token: {error.why}")
    typer.echo(f"OK: well-formed token with prefix {parsed.prefix!r}, checksum valid")


def _print_tokens(tokens: Sequence[Token], now: dt.datetime) -> None:
    if not tokens:
        typer.echo("no tokens match")
        return
    print_table(
        ["id", "owner", "label", "scope", "status", "expires", "last used", "uses"],
        (
            [
                token.id,
                token.owner.username,
                token.label,
                token.scope,
                token.status_at(now),
                when(token.expires_at, missing="never"),
                when(token.last_used_at, missing="never"),
                str(token.use_count),
            ]
            for token in tokens
        ),
    )


def _plain(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or "-"

    return str(value)
