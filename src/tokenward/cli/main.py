"""The `tokenward` command: every sub-command wired onto one Typer app."""

from __future__ import annotations

import typer

from tokenward.cli import (
    admin,
    database,
    directory,
    jobs,
    notify,
    permissions,
    policies,
    requests,
    tokens,
    upstream,
)
from tokenward.cli.demo import demo_upstream
from tokenward.cli.quickstart import quickstart
from tokenward.cli.server import serve

app = typer.Typer(
    name="tokenward",
    help="Per-user, per-service API tokens in front of any HTTP API.",
    no_args_is_help=True,
    # Expected errors are printed as one line by the runner. Anything else is a bug,
    # and a plain traceback of it must never show local variables: secrets live there.
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(serve)
app.command()(quickstart)
app.command(name="demo-upstream")(demo_upstream)
app.add_typer(database.app, name="db")
app.add_typer(admin.app, name="admin")
app.add_typer(directory.users, name="user")
app.add_typer(directory.groups, name="group")
app.add_typer(tokens.app, name="token")
app.add_typer(permissions.app, name="permission")
app.add_typer(policies.app, name="policy")
app.add_typer(upstream.app, name="upstream-credential")
app.add_typer(notify.app, name="notify")
app.add_typer(jobs.app, name="jobs")
app.add_typer(requests.app, name="request")
