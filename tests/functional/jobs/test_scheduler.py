"""`serve` runs the scheduled jobs itself: expiry, reminders and delivery happen
with nobody calling them, and stop with the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

from tests.functional.notify.helpers import configure, person
from tests.functional.notify.servers import Mailbox
from tests.support import Setup, free_port
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.web.listeners import Listeners

WAIT_SECONDS = 30


def test_serve_runs_the_jobs_on_its_schedule(
    mail_settings: Settings, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """Within a few intervals of a served instance, an expired token is audited
    and a due reminder reaches its owner's mailbox."""
    settings = mail_settings.model_copy(
        update={
            "host": "127.0.0.1",
            "port": free_port(),
            "jobs_interval_seconds": 1,
            "jobs_delivery_interval_seconds": 0.2,
        }
    )
    setup = Setup(settings, clock)
    person(setup, "alice")
    configure(setup, email=True)
    expired = setup.issue("alice", label="old", expires_in_days=1).token
    setup.issue("alice", label="ci", expires_in_days=20)
    clock.advance(dt.timedelta(days=15))
    listeners = Listeners(Container(settings, clock=clock), access_log=False)
    assert listeners.scheduler is not None
    thread = threading.Thread(target=lambda: asyncio.run(listeners.serve()))
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and not (
            _reminders(mailbox) and _expired(setup)
        ):
            time.sleep(0.1)
            # Time passes for the jobs too: a run is not repeated within a gap.
            clock.advance(dt.timedelta(seconds=1))
    finally:
        listeners.exit()
        thread.join(timeout=30)

    assert not thread.is_alive()
    assert not listeners.scheduler.running
    assert _reminders(mailbox) == ["tokenward: your token 'ci' expires in 5 days"]
    assert _expired(setup) == [expired.id]


def test_serve_leaves_the_jobs_to_cron_when_told(settings: Settings) -> None:
    """With `jobs_enabled = false` no scheduler is started."""
    listeners = Listeners(
        Container(settings.model_copy(update={"jobs_enabled": False})),
        access_log=False,
    )

    assert listeners.scheduler is None


def _reminders(mailbox: Mailbox) -> list[str]:
    return [
        str(m.message["Subject"])
        for m in mailbox.received
        if " expires in " in str(m.message["Subject"])
    ]


def _expired(setup: Setup) -> list[str | None]:
    return [r.token_id for r in setup.audit_trail() if r.event == "token_expired"]
