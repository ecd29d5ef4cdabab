"""`tokenward user …` and `tokenward group …`: the local directory."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tokenward.cli.output import print_json, print_secret_block, print_table, when
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run
from tokenward.container import Container
from tokenward.directory.models import Group, User
from tokenward.directory.passwords import generate_password
from tokenward.directory.schemas import GroupList, GroupOut, UserOut, UserPage

users = typer.Typer(help="Create, list, show, disable and enable users.")
groups = typer.Typer(help="Create, list and delete groups; manage their members.")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin."
    ),
]


def read_password_from_stdin() -> str:
    """The first line of standard input, without its line ending."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on standard input")

    return password


@users.command("create")
def create_user(
    username: str,
    display_name: Annotated[str, typer.Option(help="The name people read.")] = "",
    email: Annotated[str, typer.Option(help="Where notifications go.")] = "",
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Create a local user; without a password they cannot sign in to the web UI."""
    password = read_password_from_stdin() if password_stdin else None

    async def work(container: Container) -> User:
        return await container.directory.create_user(
            OPERATOR,
            ORIGIN,
            username=username,
            display_name=display_name,
            email=email,
            password=password,
        )

    user = run(work)
    if as_json:
        print_json(UserOut.of(user))
    else:
        typer.echo(f"created user {user.username}")


@users.command("list")
def list_users(
    search: Annotated[
        str | None, typer.Option(help="Usernames containing this text.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List users by name."""

    async def work(container: Container) -> tuple[list[User], int]:
        found, total = await container.directory.list_users(
            OPERATOR, search=search, limit=limit, offset=offset
        )
        return list(found), total

    found, total = run(work)
    if as_json:
        items = [UserOut.of(user) for user in found]
        print_json(UserPage(items=items, total=total, limit=limit, offset=offset))
        return
    print_table(
        ["username", "display name", "email", "active", "groups"],
        (
            [
                user.username,
                user.display_name,
                user.email,
                "yes" if user.active else "no",
                ", ".join(sorted(group.name for group in user.groups)),
            ]
            for user in found
        ),
    )
    if total > offset + len(found):
        typer.echo(
            f"({len(found)} of {total} shown; use --offset and --limit for more)"
        )


@users.command("show")
def show_user(username: str, as_json: JsonOption = False) -> None:
    """Show one user."""

    async def work(container: Container) -> User:
        return await container.directory.get_user(OPERATOR, username)

    out = UserOut.of(run(work))
    if as_json:
        print_json(out)
        return
    typer.echo(f"username:      {out.username}")
    typer.echo(f"display name:  {out.display_name or '-'}")
    typer.echo(f"email:         {out.email or '-'}")
    typer.echo(f"active:        {'yes' if out.active else 'no'}")
    typer.echo(f"source:        {out.source}")
    typer.echo(f"groups:        {', '.join(out.groups) or '-'}")
    typer.echo(f"created:       {when(out.created_at)}")
    if out.disabled_at is not None:
        typer.echo(f"disabled:      {when(out.disabled_at)} by {out.disabled_by}")


def _set_active(username: str, *, active: bool) -> None:
    async def work(container: Container) -> User:
        return await container.directory.update_user(
            OPERATOR, ORIGIN, username, active=active
        )

    user = run(work)
    typer.echo(f"user {user.username} is {'enabled' if user.active else 'disabled'}")


@users.command("disable")
def disable_user(username: str) -> None:
    """Disable a user: their tokens stop working at once."""
    _set_active(username, active=False)


@users.command("enable")
def enable_user(username: str) -> None:
    """Enable a disabled user again; their unexpired tokens work again."""
    _set_active(username, active=True)


@users.command("set-password")
def set_password(
    username: str,
    password_stdin: PasswordStdinOption = False,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate one and print it once.")
    ] = False,
) -> None:
    """Set a user's web UI password (never used for API calls).

    Without an option the password is asked for, hidden, twice.
    """
    if password_stdin and generate:
        raise typer.BadParameter("give --password-stdin or --generate, not both")
    if password_stdin:
        password = read_password_from_stdin()
    elif generate:
        password = generate_password()
    else:
        password = typer.prompt(
            "New password", hide_input=True, confirmation_prompt=True
        )

    async def work(container: Container) -> None:
        await container.directory.set_password(OPERATOR, ORIGIN, username, password)

    run(work)
    typer.echo(f"the password of {username} is set")
    if generate:
        print_secret_block("The password (shown now and never again):", password)


@groups.command("create")
def create_group(
    name: str,
    description: Annotated[str, typer.Option(help="What the group is for.")] = "",
) -> None:
    """Create a group."""

    async def work(container: Container) -> Group:
        return await container.directory.create_group(
            OPERATOR, ORIGIN, name=name, description=description
        )

    typer.echo(f"created group {run(work).name}")


@groups.command("list")
def list_groups(as_json: JsonOption = False) -> None:
    """List groups with their members."""

    async def work(container: Container) -> list[Group]:
        return list(await container.directory.list_groups(OPERATOR))

    found = run(work)
    if as_json:
        print_json(GroupList(items=[GroupOut.of(group) for group in found]))
        return
    print_table(
        ["group", "members", "description"],
        ([group.name, str(len(group.members)), group.description] for group in found),
    )


@groups.command("show")
def show_group(name: str, as_json: JsonOption = False) -> None:
    """Show one group and its members."""

    async def work(container: Container) -> Group:
        return await container.directory.get_group(OPERATOR, name)

    out = GroupOut.of(run(work))
    if as_json:
        print_json(out)
        return
    typer.echo(f"group:        {out.name}")
    typer.echo(f"description:  {out.description or '-'}")
    typer.echo(f"created:      {when(out.created_at)}")
    typer.echo(f"members:      {', '.join(out.members) or '-'}")


@groups.command("delete")
def delete_group(name: str) -> None:
    """Delete a group; its members lose the permissions it gave them."""

    async def work(container: Container) -> None:
        await container.directory.delete_group(OPERATOR, ORIGIN, name)

    run(work)
    typer.echo(f"deleted group {name}")


@groups.command("add-member")
def add_member(group: str, username: str) -> None:
    """Add a user to a group."""

    async def work(container: Container) -> None:
        await container.directory.add_member(OPERATOR, ORIGIN, group, username)

    run(work)
    typer.echo(f"{username} is a member of {group}")


@groups.command("remove-member")
def remove_member(group: str, username: str) -> None:
    """Remove a user from a group."""

    async def work(container: Container) -> None:
        await container.directory.remove_member(OPERATOR, ORIGIN, group, username)

    run(work)
    typer.echo(f"{username} is not a member of {group}")
