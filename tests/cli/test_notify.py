"""`tokenward notify …` and `tokenward jobs …` against a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.cli.conftest import Cli, environment_of
from tests.functional.notify.helpers import WEBHOOK_SECRET, person
from tests.functional.notify.servers import smtp_server, webhook_receiver
from tests.support import ORIGIN, Setup, capture_logs
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.notify.documents import NotificationSettings
from tokenward.policies.permissions import Actor

OPERATOR = Actor.operator("test")


def stored(services: Setup) -> NotificationSettings:
    async def work(container: Container) -> NotificationSettings:
        return await container.notifications.get(OPERATOR)

    return services.run(work)


def test_set_changes_only_the_named_settings(cli: Cli, services: Setup) -> None:
    """`notify set` edits the fields given, keeps the others, and `show` prints
    them."""
    services.run(
        lambda c: c.directory.create_group(OPERATOR, ORIGIN, name="token-admins")
    )

    first = cli("notify", "set", "--reminder-days", "14,3", "--new-address-alerts")
    second = cli("notify", "set", "--reminder-group", "token-admins")
    shown = cli("notify", "show")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    settings = stored(services)
    assert settings.reminder_days == (14, 3)
    assert settings.reminder_group == "token-admins"
    assert settings.new_address_alerts is True
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines()}
    assert rows["reminder_days"] == ["14,", "3"]
    assert rows["email"] == ["off"]


def test_email_cannot_be_switched_on_without_smtp(cli: Cli) -> None:
    """Without TOKENWARD_SMTP_HOST, `--email` fails with one line saying why."""
    result = cli("notify", "set", "--email")

    assert result.exit_code == 1
    assert "TOKENWARD_SMTP_HOST" in result.stderr


def test_webhooks_are_added_tested_and_removed(cli: Cli, services: Setup) -> None:
    """A webhook added with its secret on stdin answers a test call that verifies,
    is listed without its secret, and is gone after removal."""
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        added = cli(
            "notify", "webhook-add", "siem", url, "--secret-stdin",
            stdin=WEBHOOK_SECRET + "\n",
        )  # fmt: skip
        tested = cli("notify", "test", "--webhook", "siem")
        shown = cli("notify", "show", "--json")
    removed = cli("notify", "webhook-remove", "siem")

    assert added.exit_code == 0, added.output
    assert tested.exit_code == 0, tested.output
    assert "delivered" in tested.stdout
    assert [call.signature_valid for call in receiver.calls] == [True]
    assert '"secret_set": true' in shown.stdout
    assert WEBHOOK_SECRET not in shown.stdout + added.output + tested.output
    assert removed.exit_code == 0, removed.output
    assert stored(services).webhooks == ()


def test_a_new_webhook_without_a_secret_is_refused(cli: Cli) -> None:
    """Without a secret on stdin (and no terminal to ask on) nothing is saved."""
    result = cli("notify", "webhook-add", "siem", "https://siem.example.test/h")

    assert result.exit_code == 1
    assert "needs a secret" in result.stderr


def test_a_failed_test_exits_1(cli: Cli) -> None:
    """A test mail that cannot be sent is reported, with exit status 1."""
    result = cli("notify", "test", "--email", "alice@example.test")

    assert result.exit_code == 1
    assert "failed: no SMTP server is configured" in result.stdout


def test_jobs_run_sends_reminders_and_lists_the_runs(
    settings: Settings, tmp_path: Path
) -> None:
    """`jobs run` runs every job once (cron's way), mailing the reminder that is
    due; `jobs list` shows each job's last run."""
    with smtp_server(tmp_path) as mailbox:
        mail_settings = settings.model_copy(update=mailbox.settings())
        env = environment_of(settings) | {
            "TOKENWARD_SMTP_HOST": mailbox.host,
            "TOKENWARD_SMTP_PORT": str(mailbox.port),
            "TOKENWARD_SMTP_SECURITY": "none",
            "TOKENWARD_SMTP_FROM": "tokenward@example.test",
        }
        cli = Cli(env)
        # The CLI runs on the wall clock: a token made 15 days ago, due in 5.
        past = Setup(
            mail_settings, FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=15))
        )
        person(past, "alice")
        past.issue("alice", label="ci", expires_in_days=20)
        assert cli("notify", "set", "--email").exit_code == 0

        # `jobs run` sets up logging as `serve` does; put it back afterwards.
        with capture_logs(settings):
            ran = cli("jobs", "run")
            only = cli("jobs", "run", "--job", "expire-tokens")
            listed = cli("jobs", "list")
            bad = cli("jobs", "run", "--job", "nope")

        subjects = [str(m.message["Subject"]) for m in mailbox.received]
    assert ran.exit_code == 0, ran.output
    assert "reminders=1" in ran.stdout
    assert "tokenward: your token 'ci' expires in 5 days" in subjects
    assert only.exit_code == 0, only.output
    assert only.stdout.splitlines()[1].split() == ["expire-tokens", "expired=0"]
    assert "job_finished" in ran.stderr
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [
        "expire-inactive-tokens",
        "expire-tokens",
        "send-reminders",
        "expire-token-requests",
        "purge-notifications",
        "deliver-notifications",
    ]
    assert bad.exit_code == 2
