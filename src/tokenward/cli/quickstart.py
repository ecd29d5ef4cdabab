"""`tokenward quickstart`: from nothing to a gate in front of an API, with tokens.

For a newcomer on a fresh machine: migrate the (SQLite by default) database; unless
an upstream is configured, start the demo issue tracker shipped with tokenward and
put the gate's reverse proxy in front of it. On the first run, create the
administrator `admin`, a read-write and a read-only token for them, and turn
password logins on the API off; print those secrets once with `curl` commands that
show the gate at work; then serve. Later runs say that the secrets were shown
already and only serve.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from tokenward.cli.database import describe_database, upgrade_schema
from tokenward.cli.output import when
from tokenward.cli.runner import OPERATOR, ORIGIN, run, settings_or_fail
from tokenward.cli.server import serve_app
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.demo.app import create_demo_app
from tokenward.demo.server import DEFAULT_HOST as DEFAULT_DEMO_HOST
from tokenward.demo.server import DEFAULT_PORT as DEFAULT_DEMO_PORT
from tokenward.demo.server import identity_from
from tokenward.directory.passwords import generate_password
from tokenward.errors import ConfigurationError
from tokenward.gate.identity import IdentityHeaders
from tokenward.tokens.attributes import Scope
from tokenward.tokens.specs import TokenSpec
from tokenward.web.app import API_PREFIX
from tokenward.web.listeners import Listener, bind

ADMIN_USERNAME = "admin"
TOKEN_LABEL = "quickstart"  # noqa: S105 - a label, not a secret
READ_ONLY_LABEL = "quickstart-read-only"


@dataclass(frozen=True, slots=True)
class FirstRun:
    """What the first run created; the three secrets exist only here, once."""

    username: str
    password: str = field(repr=False)
    token_id: str
    token: str = field(repr=False)
    read_only_token: str = field(repr=False)
    expires: str


async def set_up(container: Container) -> FirstRun | None:
    """Create the administrator and their tokens, and refuse passwords on the API,
    unless an administrator exists already."""
    if await container.bootstrap.has_administrator():
        return None
    password = generate_password()
    admin = await container.bootstrap.create_admin(
        ORIGIN, username=ADMIN_USERNAME, password=password
    )
    issued = await container.tokens.create(
        OPERATOR, ORIGIN, TokenSpec(label=TOKEN_LABEL), owner=admin.username
    )
    read_only = await container.tokens.create(
        OPERATOR,
        ORIGIN,
        TokenSpec(label=READ_ONLY_LABEL, scope=Scope.READ_ONLY),
        owner=admin.username,
    )
    policy = await container.gate_policy.get(OPERATOR)
    await container.gate_policy.replace(
        OPERATOR, ORIGIN, policy.model_copy(update={"passwords": "deny"})
    )

    return FirstRun(
        username=admin.username,
        password=password,
        token_id=issued.token.id,
        token=issued.secret,
        read_only_token=read_only.secret,
        expires=when(issued.token.expires_at, missing="never"),
    )


def base_url(settings: Settings, port: int | None = None) -> str:
    """The URL a local client uses: a wildcard listen address is reached on loopback.

    The API listener's, or the one on `port` (the reverse proxy's).
    """
    host = settings.host
    if host in ("", "0.0.0.0"):  # noqa: S104 - compared with, not bound to
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"

    return f"http://{host}:{port or settings.port}"


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
        f"The web UI: {url}/ ; sign in as the administrator (shown now and never",
        "again):",
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
        "    # create a token for a script (expect 201)",
        f"    curl -sS -X POST {url}{API_PREFIX}/tokens \\",
        '      -H "Authorization: Bearer $TOKENWARD_TOKEN" \\',
        "      -H 'Content-Type: application/json' \\",
        """      -d '{"label": "my-script", "expires_in_days": 30}'""",
        "",
        "    # list your tokens (expect 200)",
        f"    curl -sS {url}{API_PREFIX}/tokens \\",
        '      -H "Authorization: Bearer $TOKENWARD_TOKEN"',
        "",
        *_gate_lines(settings, first),
    ]

    return "\n".join([*lines, *_closing_lines(settings)])


def _gate_lines(settings: Settings, first: FirstRun) -> list[str]:
    """The gate at work in front of the upstream, one curl per outcome."""
    if not settings.gate_upstream_url:
        return []
    gate = base_url(settings, settings.gate_port)
    issue = f"{gate}/rest/api/2/issue"
    write = (
        """'{"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, """
        """"summary": "Made through tokenward"}}'"""
    )
    bearer = '-H "Authorization: Bearer {}"'

    return [
        f"The gate, in front of {settings.gate_upstream_url}, on {gate}.",
        f'A read-only token (label "{READ_ONLY_LABEL}"); shown now and never again:',
        "",
        f"    export TOKENWARD_READ_ONLY_TOKEN='{first.read_only_token}'",
        "",
        "    # a read: allowed (expect 200)",
        f"    curl -sS {issue}/DEMO-1 {bearer.format('$TOKENWARD_TOKEN')}",
        "",
        "    # a write: allowed (expect 201)",
        f"    curl -sS -X POST {issue} {bearer.format('$TOKENWARD_TOKEN')} \\",
        f"      -H 'Content-Type: application/json' -d {write}",
        "",
        "    # the same write with the read-only token: refused (expect 403)",
        f"    curl -sS -i -X POST {issue} \\",
        f"      {bearer.format('$TOKENWARD_READ_ONLY_TOKEN')} \\",
        f"      -H 'Content-Type: application/json' -d {write}",
        "",
        "    # a password login: refused, passwords are off on the API (expect 401)",
        f"    curl -sS -i {issue}/DEMO-1 -u {first.username}:my-jira-password",
        "",
        "The reason of every refusal is in its X-Tokenward-Reason header.",
        "",
    ]


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


def quickstart(
    demo_port: Annotated[
        int,
        typer.Option(
            min=1, max=65535, help="Port of the demo upstream, when none is configured."
        ),
    ] = DEFAULT_DEMO_PORT,
) -> None:
    """Set up a local tokenward with an admin and tokens, in front of the demo API
    (or the configured upstream), then serve it."""
    settings = settings_or_fail()
    if "log_format" not in settings.model_fields_set:
        # A person is watching this terminal; JSON lines are for log collectors.
        settings = settings.model_copy(update={"log_format": "console"})
    if not settings.gate_upstream_url:
        demo = f"http://{DEFAULT_DEMO_HOST}:{demo_port}"
        start_demo_upstream(demo_port, identity_from(settings))
        settings = settings.model_copy(update={"gate_upstream_url": demo})
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


def start_demo_upstream(port: int, identity: IdentityHeaders) -> None:
    """Serve the demo tracker on loopback in a background thread of this process.

    A taken port is one clear error line, before anything else starts.
    """
    try:
        bind(Listener("demo", DEFAULT_DEMO_HOST, port)).close()
    except ConfigurationError as error:
        raise typer.BadParameter(
            f"{error.message}; choose another with --demo-port",
            param_hint="--demo-port",
        ) from None
    config = uvicorn.Config(
        create_demo_app(identity),
        host=DEFAULT_DEMO_HOST,
        port=port,
        log_level="warning",
        log_config=None,
        proxy_headers=False,
        server_header=False,
    )
    threading.Thread(
        target=uvicorn.Server(config).run, name="demo-upstream", daemon=True
    ).start()


def _closing_lines(settings: Settings) -> list[str]:
    url = base_url(settings)
    lines = []
    if settings.api_docs:
        lines.append(f"API documentation: {url}{API_PREFIX}/docs")
    if settings.gate_upstream_url:
        gate = base_url(settings, settings.gate_port)
        lines.append(f"The gate: {gate} -> {settings.gate_upstream_url}")
    lines += [f"Serving on {url}; stop with Ctrl-C.", ""]

    return lines
