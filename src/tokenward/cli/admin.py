"""`tokenward admin …`: the first administrator of a new installation."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenward.cli.directory import PasswordStdinOption, read_password_from_stdin
from tokenward.cli.output import print_secret_block
from tokenward.cli.runner import ORIGIN, run
from tokenward.container import Container
from tokenward.policies.bootstrap import BootstrappedAdmin

app = typer.Typer(help="Set up administrators.")


@app.command()
def bootstrap(
    username: Annotated[str, typer.Option(help="Username of the administrator.")],
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Create an administrator; a generated password is printed once.

    The user joins the administrators' group, which is granted `administer`. An
    existing username is refused rather than promoted silently.
    """
    password = read_password_from_stdin() if password_stdin else None

    async def work(container: Container) -> BootstrappedAdmin:
        return await container.bootstrap.create_admin(
            ORIGIN, username=username, password=password
        )

    admin = run(work)
    typer.echo(f"administrator {admin.username} created in group {admin.group}")
    if admin.generated_password is not None:
        print_secret_block(
            "Their web UI password (shown now and never again):",
            admin.generated_password,
        )
