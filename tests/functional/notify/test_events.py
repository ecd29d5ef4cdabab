"""Producers write to the outbox in the transaction of the change: a change that
rolls back sends nothing. A token's use from a new address is told when enabled."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from tests.functional.gate.serving import check
from tests.functional.notify.helpers import configure, deliver, outbox, person
from tests.functional.notify.servers import Mailbox
from tests.support import OPERATOR, Setup, start_server
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.gate.usage import UsageRecorder
from tokenward.notify import producers
from tokenward.tokens.models import Token


class RollbackError(Exception):
    """Raised to roll a transaction back."""


@pytest.mark.parametrize("commit", [True, False])
def test_a_rolled_back_change_queues_nothing(mail_setup: Setup, commit: bool) -> None:
    """The notice a producer adds inside a transaction exists only if that
    transaction commits."""
    person(mail_setup, "alice")
    token_id = mail_setup.issue("alice", label="ci").token.id
    configure(mail_setup, email=True)

    async def work(container: Container) -> None:
        async with container.db.write() as session:
            token = await session.get(Token, token_id)
            assert token is not None
            await producers.token_created(
                session, OPERATOR, token, container.clock.now()
            )
            if not commit:
                raise RollbackError

    with contextlib.suppress(RollbackError):
        mail_setup.run(work)

    assert len(outbox(mail_setup)) == (1 if commit else 0)


def _use(setup: Setup, token_id: str, address: str, when: dt.datetime) -> None:
    """One use of the token from `address`, flushed as the gate's audit batch
    flushes usage: in a transaction of its own."""

    async def work(container: Container) -> None:
        recorder = UsageRecorder()
        recorder.note(token_id, address, when)
        async with container.db.write() as session:
            await recorder.flush(session, force=True)
        recorder.settle(durable=True)

    setup.run(work)


def test_use_from_a_new_address_is_told_to_the_owner(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """The first use sets the baseline; a use from an address the token was not
    used from lately is mailed once, a known address is not."""
    person(mail_setup, "alice")
    token_id = mail_setup.issue("alice", label="ci").token.id
    configure(mail_setup, email=True, new_address_alerts=True)
    now = clock.now()

    _use(mail_setup, token_id, "192.0.2.10", now)
    _use(mail_setup, token_id, "192.0.2.10", now)
    _use(mail_setup, token_id, "2001:db8::7", now)
    _use(mail_setup, token_id, "2001:db8::7", now)
    _use(mail_setup, token_id, "192.0.2.10", now)
    deliver(mail_setup)

    [mail] = mailbox.received
    assert mail.message["Subject"] == (
        "tokenward: your token 'ci' was used from 2001:db8::7"
    )
    assert token_id in mail.text


def test_new_address_alerts_are_off_by_default(
    mail_setup: Setup, clock: FrozenClock
) -> None:
    """Without `new_address_alerts` a new address queues nothing."""
    person(mail_setup, "alice")
    token_id = mail_setup.issue("alice", label="ci").token.id
    configure(mail_setup, email=True)

    _use(mail_setup, token_id, "192.0.2.10", clock.now())
    _use(mail_setup, token_id, "192.0.2.11", clock.now())

    assert outbox(mail_setup) == []


def test_the_gate_queues_the_alert_when_it_writes_usage(
    mail_settings: Settings, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """Through forward auth, the first address of a token is its baseline and a
    later address is mailed to the owner, as the gate writes the token's usage."""
    settings = mail_settings.model_copy(
        update={"gate_trusted_proxies": ["127.0.0.1/32"]}
    )
    setup = Setup(settings, clock)
    person(setup, "alice")
    token = setup.issue("alice", label="ci").secret
    configure(setup, email=True, new_address_alerts=True)

    for address in ("192.0.2.10", "198.51.100.20"):
        # Each server writes its usage when it stops.
        with start_server(settings, clock) as live:
            answer = check(live.url, token, headers={"X-Forwarded-For": address})
            assert answer.status_code == 200
    deliver(setup)

    subjects = [str(m.message["Subject"]) for m in mailbox.received]
    assert subjects[-1] == "tokenward: your token 'ci' was used from 198.51.100.20"
    assert not any("192.0.2.10" in subject for subject in subjects)
