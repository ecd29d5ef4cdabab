"""`tokenward quickstart`: from nothing to a working API and a first token.

For a newcomer on a fresh machine: migrate the (SQLite by default) database, create
the administrator `admin` and a first token for them on the first run, print those
secrets once with ready-to-paste `curl` commands, then serve. Later runs say that
the secrets were shown already and only serve.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import typer

from tokenward.cli.database import describe_database, upgrade_schema
from tokenward.cli.output import when
from tokenward.cli.runner import OPERATOR, ORIGIN, run, settings_or_fail
from tokenward.cli.server import serve_app
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.directory.passwords import generate_password
from tokenward.tokens.services import TokenSpec
from tokenward.web.app import API_PREFIX

ADMIN_USERNAME = "admin"
TOKEN_LABEL = "quickstart"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True, slots=True)
class FirstRun:
    """What the first run created; the two secrets exist only here, once."""

    username: str
    password: str = field(repr=False)
    token_id: str
    token: str = field(repr=False)
    expires: str


async def set_up(container: Container) -> FirstRun | None:
    """Create the administrator and their first token, unless an admin exists."""
    if await container.bootstrap.has_administrator():
        return None
    password = generate_password()
    admin = await container.bootstrap.create_admin(
        ORIGIN, username=ADMIN_USERNAME, password=password
    )
    issued = await container.tokens.create(
        OPERATOR, ORIGIN, TokenSpec(label=TOKEN_LABEL), owner=admin.username
    )

    return FirstRun(
        username=admin.username,
        password=password,
        token_id=issued.token.id,
        token=issued.secret,
        expires=when(issued.token.expires_at, missing="never"),
    )


def base_url(settings: Settings) -> str:
    """The URL a local client uses: a wildcard listen address is reached on loopback."""
    host = settings.host
    if host in ("", "0.0.0.0"):  # noqa: S104 - compared with, not bound to
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"

    return f"http://{host}:{settings.port}"


def tokenward_command() -> str:
    """How the reader can run this same `tokenward`: bare if on PATH, else a path."""
    installed = Path(sysconfig.get_path("scripts")) / "tokenward"
    on_path = shutil.which("tokenward")
    if on_path is not None and Path(on_path).resolve() == installed.resolve():
        return "tokenward"
    if not installed.exists():
        return "tokenward"
    try:
        return str(installed.relative_to(Path.cwd()))
    except ValueError:
        return str(installed)


def first_run_text(settings: Settings, first: FirstRun) -> str:
    """The one-time welcome: both secrets and commands that use the token."""
    url = base_url(settings)
    lines = [
        f"tokenward is set up: {describe_database(settings)}.",
        "",
        "Administrator, for the web UI (planned); shown now and never again:",
        f"    username: {first.username}",
        f"    password: {first.password}",
        "",
        f"Your first API token (id {first.token_id}, owner {first.username}, "
        f'label "{TOKEN_LABEL}",',
        f"read-write, expires {first.expires}); shown now and never again:",
        "",
        f"    {first.token}",
        "",
        "Try it from another terminal:",
        "",
        f"    export TOKENWARD_TOKEN='{first.token}'",
        "",
        "    # create a token for a script",
        f"    curl -sS -X POST {url}{API_PREFIX}/tokens \\",
        '      -H "Authorization: Bearer $TOKENWARD_TOKEN" \\',
        "      -H 'Content-Type: application/json' \\",
        """      -d '{"label": "my-script", "expires_in_days": 30}'""",
        "",
        "    # list your tokens",
        f"    curl -sS {url}{API_PREFIX}/tokens \\",
        '      -H "Authorization: Bearer $TOKENWARD_TOKEN"',
        "",
    ]

    return "\n".join([*lines, *_closing_lines(settings)])


def later_run_text(settings: Settings) -> str:
    """What a later run says: the secrets were shown once, and how to get new ones."""
    command = tokenward_command()
    lines = [
        f"tokenward is already set up: {describe_database(settings)}.",
        "An administrator exists. Their password and the first token were shown once,",
        "on the first run; only their hashes are kept, so they cannot be shown again.",
        "",
        "Make a new token:",
        f"    {command} token create --user {ADMIN_USERNAME} --label my-script",
        "Give the administrator a new password:",
        f"    {command} user set-password {ADMIN_USERNAME} --generate",
        "",
    ]

    return "\n".join([*lines, *_closing_lines(settings)])


def quickstart() -> None:
    """Set up a local tokenward with an admin and a first token, then serve it."""
    settings = settings_or_fail()
    if "log_format" not in settings.model_fields_set:
        # A person is watching this terminal; JSON lines are for log collectors.
        settings = settings.model_copy(update={"log_format": "console"})
    upgrade_schema(settings)
    first = run(set_up, settings)
    text = (
        later_run_text(settings) if first is None else first_run_text(settings, first)
    )
    typer.echo(text, nl=False)
    # Through a pipe, stdout is block-buffered: the welcome must not wait in the
    # buffer while the process goes on to serve.
    sys.stdout.flush()
    serve_app(settings, access_log=True)


def _closing_lines(settings: Settings) -> list[str]:
    url = base_url(settings)
    lines = []
    if settings.api_docs:
        lines.append(f"API documentation: {url}{API_PREFIX}/docs")
    lines += [f"Serving on {url}; stop with Ctrl-C.", ""]

    return lines
