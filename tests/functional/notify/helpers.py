"""Arranging notification settings and running the jobs, through the services."""

from __future__ import annotations

from typing import Any

from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.container import Container
from tokenward.jobs.registry import job_named
from tokenward.jobs.runner import JobRun, holder_id, run_job
from tokenward.notify.delivery import DeliveryReport
from tokenward.notify.documents import NotificationSettingsIn
from tokenward.notify.models import Notification

WEBHOOK_SECRET = "whsec-test-" + "s" * 24


def configure(setup: Setup, **document: Any) -> None:
    """Replace the notification settings with `document`."""
    settings_in = NotificationSettingsIn.model_validate(document)
    setup.run(lambda c: c.notifications.replace(OPERATOR, ORIGIN, settings_in))


def webhook(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "secret": WEBHOOK_SECRET, **extra}


def deliver(setup: Setup) -> DeliveryReport:
    """Send what is due, as the delivery job does."""
    return setup.run(lambda c: c.notifications.deliver_due())


def run(setup: Setup, name: str) -> JobRun:
    """Run one job under its lease, as the scheduler does."""
    return setup.run(lambda c: run_job(c, job_named(name), holder_id()))


def outbox(setup: Setup) -> list[Notification]:
    """Every notification, oldest first."""

    async def work(container: Container) -> list[Notification]:
        rows, _ = await container.notifications.outbox(
            OPERATOR, status=None, limit=500, offset=0
        )
        return sorted(rows, key=lambda n: n.id)

    return setup.run(work)


def person(setup: Setup, username: str, *, groups: tuple[str, ...] = ()) -> str:
    """A user with the address `<username>@example.test`, in `groups`."""

    async def work(container: Container) -> None:
        directory = container.directory
        await directory.create_user(
            OPERATOR, ORIGIN, username=username, email=f"{username}@example.test"
        )
        existing = {group.name for group in await directory.list_groups(OPERATOR)}
        for group in groups:
            if group not in existing:
                await directory.create_group(OPERATOR, ORIGIN, name=group)
            await directory.add_member(OPERATOR, ORIGIN, group, username)

    setup.run(work)
    return f"{username}@example.test"
