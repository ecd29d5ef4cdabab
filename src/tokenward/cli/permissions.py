"""`tokenward permission …`: who may use, create and manage tokens, and administer."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenward.cli.output import print_json, print_table
from tokenward.cli.runner import OPERATOR, ORIGIN, run
from tokenward.container import Container
from tokenward.policies.permissions import Permission
from tokenward.policies.schemas import PermissionGrantOut, PermissionList

app = typer.Typer(help="Show and change who holds each permission.")


@app.command("list")
def list_permissions(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
    ] = False,
) -> None:
    """Show each permission and who holds it."""

    async def work(container: Container) -> dict[Permission, tuple[bool, list[str]]]:
        return await container.permissions.grants(OPERATOR)

    grants = run(work)
    items = [
        PermissionGrantOut(permission=permission, everyone=everyone, groups=names)
        for permission, (everyone, names) in grants.items()
    ]
    if as_json:
        print_json(PermissionList(items=items))
        return
    print_table(
        ["permission", "granted to"],
        ([str(item.permission), _holders(item)] for item in items),
    )


@app.command("set")
def set_permission(
    permission: Annotated[Permission, typer.Argument(help="The permission to grant.")],
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Grant it to every user.")
    ] = False,
    group: Annotated[
        list[str] | None,
        typer.Option(help="Grant it to this group; repeat for more."),
    ] = None,
    nobody: Annotated[
        bool, typer.Option("--nobody", help="Take it away from everyone.")
    ] = False,
) -> None:
    """Grant PERMISSION to everyone, to exactly the named groups, or to nobody.

    The grant replaces the previous one; `administer` always keeps at least one group.
    """
    names = list(group or [])
    if sum((everyone, bool(names), nobody)) != 1:
        raise typer.BadParameter("give one of --everyone, --group G ... or --nobody")

    async def work(container: Container) -> None:
        await container.permissions.set(
            OPERATOR, ORIGIN, permission, everyone=everyone, groups=names
        )

    run(work)
    holder = "everyone" if everyone else ", ".join(names) if names else "nobody"
    typer.echo(f"{permission} is granted to {holder}")


def _holders(item: PermissionGrantOut) -> str:
    if item.everyone:
        return "everyone"

    return ", ".join(f"group {name}" for name in item.groups) or "nobody"
