"""Expiry reminders at each lead time, with a frozen clock: once each, only the
window a token is in, to the owner and the admin group."""

from __future__ import annotations

import datetime as dt

from tests.functional.notify.helpers import (
    WEBHOOK_SECRET,
    configure,
    deliver,
    outbox,
    person,
    run,
    webhook,
)
from tests.functional.notify.servers import Mailbox, webhook_receiver
from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.clock import FrozenClock
from tokenward.jobs.reminders import send_reminders

DAY = dt.timedelta(days=1)


def _subjects(mailbox: Mailbox) -> list[tuple[list[str], str]]:
    """Recipients and subject of each reminder received (tokens the tests issue
    are created by the operator, so their owners are told of that too)."""
    return [
        (m.recipients, str(m.message["Subject"]))
        for m in mailbox.received
        if " expires in " in str(m.message["Subject"])
    ]


def test_each_lead_time_reminds_once(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """A 40-day token is reminded 30, 7 and 1 days ahead, once each, with the days
    left in the subject, however often the job runs in between."""
    address = person(mail_setup, "alice")
    configure(mail_setup, email=True)
    token = mail_setup.issue("alice", label="ci", expires_in_days=40).token

    def step(days: float) -> None:
        clock.advance(days * DAY)
        for _ in range(2):
            run(mail_setup, "send-reminders")
            deliver(mail_setup)

    step(0)
    assert _subjects(mailbox) == []
    step(9.5)  # 30.5 days left
    assert _subjects(mailbox) == []
    step(1)  # 29.5 days left
    step(22)  # 7.5 days left
    step(1)  # 6.5 days left
    step(5.75)  # 0.75 days left
    step(1)  # expired

    assert _subjects(mailbox) == [
        ([address], "tokenward: your token 'ci' expires in 30 days"),
        ([address], "tokenward: your token 'ci' expires in 7 days"),
        ([address], "tokenward: your token 'ci' expires in 1 day"),
    ]
    assert token.id in mailbox.received[-1].text


def test_a_late_token_gets_only_its_current_window(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """A token first seen with 5 days left gets the 7-day reminder (saying 5
    days), not the 30-day one it missed; a token created with less than a day to
    live gets none at all."""
    person(mail_setup, "alice")
    mail_setup.issue("alice", label="long", expires_in_days=20)
    mail_setup.issue(
        "alice", label="short", expires_at=clock.now() + dt.timedelta(hours=12)
    )
    configure(mail_setup, email=True)
    clock.advance(15 * DAY)

    run(mail_setup, "send-reminders")
    deliver(mail_setup)

    assert [s for _, s in _subjects(mailbox)] == [
        "tokenward: your token 'long' expires in 5 days"
    ]


def test_the_admin_group_gets_its_own_copy(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """With a reminder group, its active members get one mail naming the owner;
    the owner gets the usual one; a disabled member and a webhook are handled
    alike."""
    owner = person(mail_setup, "alice")
    admins = [
        person(mail_setup, name, groups=("token-admins",)) for name in ("bo", "cy")
    ]
    person(mail_setup, "dee", groups=("token-admins",))
    mail_setup.run(
        lambda c: c.directory.update_user(OPERATOR, ORIGIN, "dee", active=False)
    )
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(
            mail_setup,
            email=True,
            reminder_days=[7],
            reminder_group="token-admins",
            webhooks=[webhook("siem", url)],
        )
        mail_setup.issue("alice", label="ci", expires_in_days=10)
        clock.advance(4 * DAY)
        run(mail_setup, "send-reminders")
        deliver(mail_setup)

    assert sorted(_subjects(mailbox)) == sorted(
        [
            ([owner], "tokenward: your token 'ci' expires in 6 days"),
            (admins, "tokenward: alice's token 'ci' expires in 6 days"),
        ]
    )
    [call] = [c for c in receiver.calls if c.document["event"] == "token_expiring"]
    assert call.signature_valid
    assert call.document["data"]["lead_days"] == 7
    assert call.document["data"]["days_left"] == 6


def test_no_channel_keeps_the_reminder_for_later(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """While nothing could carry a reminder it is not used up: switching e-mail on
    inside the window still sends it."""
    person(mail_setup, "alice")
    mail_setup.issue("alice", label="ci", expires_in_days=10)
    clock.advance(4 * DAY)
    assert run(mail_setup, "send-reminders").summary == {
        "reminders": 0,
        "notifications": 0,
    }

    configure(mail_setup, email=True)
    run(mail_setup, "send-reminders")
    deliver(mail_setup)

    assert len(_subjects(mailbox)) == 1
    assert outbox(mail_setup)[-1].dedupe_key.startswith("reminder:")


def test_revoked_rotated_and_disabled_owners_tokens_are_not_reminded(
    mail_setup: Setup, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """Reminders are for tokens that would otherwise go on working."""
    person(mail_setup, "alice")
    person(mail_setup, "bob")
    configure(mail_setup, email=True)
    revoked = mail_setup.issue("alice", label="revoked", expires_in_days=10).token
    rotated = mail_setup.issue("alice", label="rotated", expires_in_days=10).token
    mail_setup.issue("bob", label="bobs", expires_in_days=10)
    mail_setup.run(
        lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [revoked.id], managed=True)
    )
    mail_setup.run(
        lambda c: c.tokens.rotate(
            OPERATOR, ORIGIN, rotated.id, grace=DAY * 1, managed=True
        )
    )
    mail_setup.run(
        lambda c: c.directory.update_user(OPERATOR, ORIGIN, "bob", active=False)
    )
    clock.advance(4 * DAY)

    run(mail_setup, "send-reminders")
    deliver(mail_setup)

    # Only the rotation's new token, which lives on with the old expiry.
    assert [s for _, s in _subjects(mailbox)] == [
        "tokenward: your token 'rotated' expires in 6 days"
    ]


def test_a_window_larger_than_a_batch_is_walked_to_its_end(
    mail_setup: Setup, clock: FrozenClock
) -> None:
    """Reminders due for more tokens than one batch holds, some sharing an expiry
    time, are all issued in one run, each once."""
    person(mail_setup, "alice")
    configure(mail_setup, email=True, reminder_days=[7])
    for number in range(11):
        mail_setup.issue("alice", label=f"t{number}", expires_in_days=10 + (number % 3))
    clock.advance(5 * DAY)

    counts = mail_setup.run(lambda c: send_reminders(c.db, c.clock, batch=4))
    again = mail_setup.run(lambda c: send_reminders(c.db, c.clock, batch=4))

    assert counts == {"reminders": 11, "notifications": 11}
    assert again == {"reminders": 0, "notifications": 0}
