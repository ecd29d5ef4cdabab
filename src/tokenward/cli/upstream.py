"""`tokenward upstream-credential …`: the credentials injected for users (SPEC G6).

The operator may set, show, check and remove any user's; the value is read from
standard input or a hidden prompt, never from the command line (where `ps` and
shell histories would keep it), and is never printed.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tokenward.cli.output import print_json, when
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run
from tokenward.container import Container
from tokenward.upstream.schemas import CredentialOut
from tokenward.upstream.schemes import Scheme
from tokenward.upstream.services import CredentialInfo

app = typer.Typer(
    help="Set, show, check and remove the upstream credentials the gate injects."
)

UserOption = Annotated[str, typer.Option("--user", help="The tokenward username.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
]


def read_value(*, from_stdin: bool) -> str:
    """The credential: the first line of stdin, or typed at a hidden prompt."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        value = typer.prompt("Credential", hide_input=True)
    else:
        fail("give the credential on standard input with --value-stdin")
    if not value:
        fail("no credential on standard input")

    return value


def _print_info(info: CredentialInfo, *, as_json: bool) -> None:
    out = CredentialOut.of(info)
    if as_json:
        print_json(out)
        return
    typer.echo(f"user:          {out.username}")
    typer.echo(f"scheme:        {out.scheme}")
    typer.echo(f"checked as:    {out.checked_as or '-'}")
    typer.echo(f"last checked:  {when(out.last_checked_at)}")
    typer.echo(f"updated:       {when(out.updated_at)} by {out.updated_by}")
    typer.echo(f"created:       {when(out.created_at)}")
    if not out.key_current:
        typer.echo(
            "usable:        no, saved under another instance secret; set it again"
        )


@app.command("set")
def set_credential(
    *,
    user: UserOption,
    scheme: Annotated[
        Scheme, typer.Option(help="bearer (a personal access token) or basic.")
    ],
    value_stdin: Annotated[
        bool,
        typer.Option(
            "--value-stdin",
            help="Read the value (token, or username:password) from stdin.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check a credential against the upstream and store it for USER."""
    value = read_value(from_stdin=value_stdin)

    async def work(container: Container) -> CredentialInfo:
        return await container.upstream_credentials.save(
            OPERATOR, ORIGIN, user, scheme, value
        )

    _print_info(run(work), as_json=as_json)


@app.command()
def show(*, user: UserOption, as_json: JsonOption = False) -> None:
    """Show what is stored for USER, without the value."""

    async def work(container: Container) -> CredentialInfo:
        return await container.upstream_credentials.get(OPERATOR, user)

    _print_info(run(work), as_json=as_json)


@app.command()
def check(*, user: UserOption, as_json: JsonOption = False) -> None:
    """Try USER's stored credential against the upstream now."""

    async def work(container: Container) -> CredentialInfo:
        return await container.upstream_credentials.check(OPERATOR, ORIGIN, user)

    _print_info(run(work), as_json=as_json)


@app.command()
def remove(*, user: UserOption) -> None:
    """Remove USER's credential; the gate refuses their tokens until one is set."""

    async def work(container: Container) -> None:
        await container.upstream_credentials.remove(OPERATOR, ORIGIN, user)

    run(work)
    typer.echo(f"upstream credential of {user} removed")
