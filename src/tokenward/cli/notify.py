"""`tokenward notify …`: notification settings, webhooks, tests and the outbox.

    notify show                         the settings in force
    notify set --email --reminder-days 30,7,1 --reminder-group token-admins
    notify webhook-add siem https://siem.example.com/hook --secret-stdin
    notify webhook-remove siem
    notify test [--email ADDRESS] [--webhook NAME]
    notify outbox [--status failed]
    notify retry ID

Each change is validated and audited exactly as through the REST API. Webhook
secrets are read from standard input (or a hidden prompt), never from arguments,
which other users of the machine could read.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationError

from tokenward.cli.output import print_json, print_table, when
from tokenward.cli.runner import OPERATOR, ORIGIN, fail, run
from tokenward.container import Container
from tokenward.notify.documents import (
    NotificationSettings,
    NotificationSettingsIn,
    NotificationSettingsOut,
)
from tokenward.notify.events import NotificationEvent
from tokenward.notify.schemas import NotificationOut, NotificationPage
from tokenward.notify.services import TestResult

app = typer.Typer(
    help="Notification settings, webhooks, test messages and the outbox.",
    no_args_is_help=True,
)
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON, as the REST API answers.")
]


def _replace(document: NotificationSettingsIn) -> NotificationSettings:
    async def work(container: Container) -> NotificationSettings:
        return await container.notifications.replace(OPERATOR, ORIGIN, document)

    return run(work)


def _current() -> NotificationSettings:
    async def work(container: Container) -> NotificationSettings:
        return await container.notifications.get(OPERATOR)

    return run(work)


def _validated(**fields: object) -> NotificationSettingsIn:
    try:
        return NotificationSettingsIn.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'settings'}: {item['msg']}"
            for item in error.errors()
        )
        fail(problems)


def _show(settings: NotificationSettings, *, as_json: bool) -> None:
    out = NotificationSettingsOut.model_validate(settings.public())
    if as_json:
        print_json(out)
        return
    print_table(
        ["setting", "value"],
        [
            ["email", "on" if out.email else "off"],
            ["reminder_days", ", ".join(map(str, out.reminder_days)) or "-"],
            ["reminder_group", out.reminder_group or "-"],
            ["new_address_alerts", "on" if out.new_address_alerts else "off"],
        ],
    )
    if out.webhooks:
        typer.echo("")
        print_table(
            ["webhook", "url", "events", "enabled", "secret"],
            [
                [
                    w.name,
                    w.url,
                    ", ".join(w.events) or "all",
                    "yes" if w.enabled else "no",
                    "set" if w.secret_set else "missing",
                ]
                for w in out.webhooks
            ],
        )


@app.command()
def show(as_json: JsonOption = False) -> None:
    """Print the notification settings (webhook secrets are never shown)."""
    _show(_current(), as_json=as_json)


@app.command("set")
def set_settings(
    email: Annotated[
        bool | None,
        typer.Option("--email/--no-email", help="Send e-mail (needs an SMTP server)."),
    ] = None,
    reminder_days: Annotated[
        str | None,
        typer.Option(
            help="Days before expiry to remind, comma-separated; '' for none.",
        ),
    ] = None,
    reminder_group: Annotated[
        str | None,
        typer.Option(help="Group that gets a copy of each reminder; '' for none."),
    ] = None,
    new_address_alerts: Annotated[
        bool | None,
        typer.Option(
            "--new-address-alerts/--no-new-address-alerts",
            help="Tell owners when a token is used from a new address.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change the settings named; the others stay as they are."""
    current = _current().as_input().model_dump()
    if email is not None:
        current["email"] = email
    if reminder_days is not None:
        current["reminder_days"] = _days(reminder_days)
    if reminder_group is not None:
        current["reminder_group"] = reminder_group or None
    if new_address_alerts is not None:
        current["new_address_alerts"] = new_address_alerts
    _show(_replace(_validated(**current)), as_json=as_json)


@app.command("webhook-add")
def webhook_add(
    name: Annotated[str, typer.Argument(help="Lowercase name, unique.")],
    url: Annotated[str, typer.Argument(help="Where events are POSTed.")],
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin", help="Read the signing secret from standard input."
        ),
    ] = False,
    event: Annotated[
        list[NotificationEvent] | None,
        typer.Option(help="Send only this event; repeat for more. Default: all."),
    ] = None,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled")] = True,
) -> None:
    """Add a webhook, or replace the one of the same name.

    A new webhook needs a secret (at least 16 characters). Replacing one without
    --secret-stdin keeps its stored secret.
    """
    current = _current()
    secret = _read_secret() if secret_stdin else None
    if secret is None and current.webhook(name) is None and sys.stdin.isatty():
        secret = typer.prompt("Webhook secret", hide_input=True)
    document = current.as_input().model_dump()
    webhook = {"name": name, "url": url, "events": event or [], "enabled": enabled}
    if secret is not None:
        webhook["secret"] = SecretStr(secret)
    # The other webhooks go back without a secret, so they keep theirs.
    others = [w for w in document["webhooks"] if w["name"] != name]
    document["webhooks"] = [*others, webhook]
    _replace(_validated(**document))
    typer.echo(f"webhook {name} saved")


@app.command("webhook-remove")
def webhook_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a webhook; its queued calls then fail as no longer configured."""
    current = _current()
    if current.webhook(name) is None:
        fail(f"webhook {name!r} not found")
    document = current.as_input().model_dump()
    document["webhooks"] = [w for w in document["webhooks"] if w["name"] != name]
    _replace(_validated(**document))
    typer.echo(f"webhook {name} removed")


@app.command("test")
def send_test(
    email: Annotated[
        str | None, typer.Option(help="Send a test mail to this address.")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="Call this webhook with a test event.")
    ] = None,
) -> None:
    """Send a test message now; exit 1 if one failed.

    Without --email or --webhook, every enabled webhook is called.
    """

    async def work(container: Container) -> list[TestResult]:
        return await container.notifications.send_test(
            OPERATOR, email=email, webhook=webhook
        )

    results = run(work)
    print_table(
        ["channel", "target", "result"],
        [
            [
                str(r.channel),
                r.target,
                "delivered" if r.delivered else f"failed: {r.error}",
            ]
            for r in results
        ],
    )
    if not all(r.delivered for r in results):
        raise typer.Exit(1)


@app.command()
def outbox(
    status: Annotated[
        str | None,
        typer.Option(help="pending, sent or failed.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List notifications, newest first."""
    if status not in (None, "pending", "sent", "failed"):
        raise typer.BadParameter("pending, sent or failed", param_hint="--status")

    async def work(container: Container) -> NotificationPage:
        rows, total = await container.notifications.outbox(
            OPERATOR, status=status, limit=limit, offset=0
        )
        return NotificationPage(
            items=[NotificationOut.of(n) for n in rows], total=total
        )

    page = run(work)
    if as_json:
        print_json(page)
        return
    print_table(
        ["id", "event", "channel", "target", "status", "attempts", "created", "error"],
        [
            [
                str(n.id),
                n.event,
                n.channel,
                n.target,
                n.status,
                str(n.attempts),
                when(n.created_at),
                (n.last_error or "-")[:60],
            ]
            for n in page.items
        ],
    )


@app.command()
def retry(notification_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Queue a failed notification again, due now."""

    async def work(container: Container) -> NotificationOut:
        return NotificationOut.of(
            await container.notifications.retry(OPERATOR, notification_id)
        )

    run(work)
    typer.echo(f"notification {notification_id} queued again")


def _days(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a comma-separated list of days",
            param_hint="--reminder-days",
        ) from None


def _read_secret() -> str:
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        fail("no webhook secret on standard input")

    return secret
