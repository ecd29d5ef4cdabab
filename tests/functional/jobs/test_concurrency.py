"""Two instances running the jobs at the same moment: each reminder is mailed
exactly once, with the leases and even without them."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import Counter
from collections.abc import Awaitable, Callable

from tests.functional.notify.helpers import configure, person
from tests.functional.notify.servers import Mailbox
from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.jobs.leases import acquire
from tokenward.jobs.registry import job_named
from tokenward.jobs.reminders import send_reminders
from tokenward.jobs.runner import holder_id, run_jobs
from tokenward.tokens.specs import TokenSpec

TOKENS = 24
ROUNDS = 3
LEASE_RACES = 20

Work = Callable[[Container], Awaitable[None]]


def _in_two_instances(settings: Settings, clock: FrozenClock, work: Work) -> None:
    """Run `work` in two Containers, each in its own thread and event loop, both
    let go at once; re-raise the first failure."""
    barrier = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []

    def instance() -> None:
        async def main() -> None:
            container = Container(settings, clock=clock)
            try:
                barrier.wait()
                await work(container)
            finally:
                await container.close()

        try:
            asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - re-raised by the caller
            failures.append(error)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an instance hung"
    if failures:
        raise failures[0]


def _arrange(setup: Setup, clock: FrozenClock) -> list[str]:
    """Owners with tokens due for their 7-day reminder; returns the token ids."""
    for number in range(4):
        person(setup, f"user{number}")
    configure(setup, email=True)

    async def issue(container: Container) -> list[str]:
        ids = []
        for number in range(TOKENS):
            issued = await container.tokens.create(
                OPERATOR,
                ORIGIN,
                TokenSpec(label=f"t{number}", expires_in_days=10),
                owner=f"user{number % 4}",
            )
            ids.append(issued.token.id)
        return ids

    ids = setup.run(issue)
    # Only the reminders are counted: drop the "created for you" notices.
    setup.run(lambda c: c.notifications.deliver_due())
    clock.advance(dt.timedelta(days=4))
    return ids


def _reminded(mailbox: Mailbox) -> Counter[str]:
    """How many reminder mails named each token id."""
    counts: Counter[str] = Counter()
    for mail in mailbox.received:
        if " expires in " in str(mail.message["Subject"]):
            for line in mail.text.splitlines():
                if line.strip().startswith("Token id:"):
                    counts[line.split(":", 1)[1].strip()] += 1
    return counts


def test_two_instances_with_leases_remind_once(
    mail_settings: Settings, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """Two instances running every job for a few rounds send each token's
    reminder exactly once."""
    ids = _arrange(Setup(mail_settings, clock), clock)
    jobs = [job_named("send-reminders"), job_named("deliver-notifications")]

    async def work(container: Container) -> None:
        holder = holder_id()
        for _ in range(ROUNDS):
            await run_jobs(container, jobs, holder)

    _in_two_instances(mail_settings, clock, work)
    # Whatever the race left queued, one more run sends; it must add nothing twice.
    Setup(mail_settings, clock).run(lambda c: run_jobs(c, jobs, holder_id()))

    assert _reminded(mailbox) == Counter(dict.fromkeys(ids, 1))


def test_two_instances_without_leases_still_remind_once(
    mail_settings: Settings, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """Called directly, with no lease, the reminder job and the delivery still send
    each reminder once: the unique reminder record and the claimed outbox rows
    are enough on their own."""
    ids = _arrange(Setup(mail_settings, clock), clock)

    async def work(container: Container) -> None:
        for _ in range(ROUNDS):
            await send_reminders(container.db, container.clock, batch=5)
            await container.notifications.delivery.deliver_due()

    _in_two_instances(mail_settings, clock, work)

    assert _reminded(mailbox) == Counter(dict.fromkeys(ids, 1))


def test_a_lease_has_one_holder_at_a_time(
    settings: Settings, clock: FrozenClock
) -> None:
    """Racing for the same lease, exactly one of two instances wins each round."""
    winners: list[str] = []
    lock = threading.Lock()

    async def work(container: Container) -> None:
        holder = holder_id()
        for number in range(LEASE_RACES):
            lease = await acquire(
                container.db,
                container.clock,
                f"race-{number}",
                holder,
                ttl=dt.timedelta(minutes=5),
            )
            if lease is not None:
                with lock:
                    winners.append(f"race-{number}")

    _in_two_instances(settings, clock, work)

    assert sorted(winners) == sorted(f"race-{n}" for n in range(LEASE_RACES))
