"""No secret in any mail, webhook call, outbox row or log line: not a token, not
the webhook secret, not the SMTP password."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.functional.notify.helpers import (
    WEBHOOK_SECRET,
    configure,
    outbox,
    person,
    run,
    webhook,
)
from tests.functional.notify.servers import smtp_server, webhook_receiver
from tests.support import (
    OPERATOR,
    ORIGIN,
    Setup,
    capture_logs,
    find_leaks,
    stored_bytes,
    token_fragments,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.gate.usage import UsageRecorder

SMTP_PASSWORD = "smtp-password-" + "p" * 12


def test_every_event_on_both_channels_leaks_no_secret(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """Creation, revocation, a reminder and a new address, mailed over STARTTLS
    with AUTH and called to a webhook, with logging at debug: no secret anywhere."""
    with (
        smtp_server(
            tmp_path, security="starttls", credentials=("mailer", SMTP_PASSWORD)
        ) as mailbox,
        webhook_receiver(WEBHOOK_SECRET) as (url, receiver),
    ):
        mail_settings = settings.model_copy(
            update=mailbox.settings(
                smtp_username="mailer",
                smtp_password=SecretStr(SMTP_PASSWORD),
                log_level="debug",
            )
        )
        setup = Setup(mail_settings, clock)
        with capture_logs(mail_settings) as logs:
            person(setup, "alice")
            configure(
                setup,
                email=True,
                new_address_alerts=True,
                webhooks=[webhook("siem", url)],
            )
            kept = setup.issue("alice", label="kept", expires_in_days=10)
            revoked = setup.issue("alice", label="revoked")
            setup.run(
                lambda c: c.tokens.revoke(
                    OPERATOR, ORIGIN, [revoked.token.id], managed=True
                )
            )
            for address in ("192.0.2.1", "192.0.2.2"):
                setup.run(_used(kept.token.id, address, clock.now()))
            clock.advance(dt.timedelta(days=4))
            run(setup, "send-reminders")
            run(setup, "deliver-notifications")

        events = {n.event for n in outbox(setup)}
        mails = {f"mail {n}": m.raw for n, m in enumerate(mailbox.received)}
        calls = {f"call {n}": c.body for n, c in enumerate(receiver.calls)}
    assert events == {
        "token_created_for_you",
        "token_revoked_for_you",
        "token_used_from_new_address",
        "token_expiring",
    }
    assert len(mails) == len(calls) == 5
    forbidden = {
        **token_fragments("kept token", kept.secret),
        **token_fragments("revoked token", revoked.secret),
        "webhook secret": WEBHOOK_SECRET,
        "smtp password": SMTP_PASSWORD,
    }
    places: dict[str, bytes | str] = {
        **mails,
        **calls,
        "logs": logs.getvalue(),
        "outbox": repr(
            [(n.payload, n.recipients, n.last_error) for n in outbox(setup)]
        ),
        "database": stored_bytes(mail_settings),
    }
    assert find_leaks(forbidden, places) == []


def _used(
    token_id: str, address: str, when: dt.datetime
) -> Callable[[Container], Coroutine[Any, Any, None]]:
    """A use of the token from `address`, flushed as the gate's audit batch does."""

    async def work(container: Container) -> None:
        recorder = UsageRecorder()
        recorder.note(token_id, address, when)
        async with container.db.write() as session:
            await recorder.flush(session, force=True)
        recorder.settle(durable=True)

    return work
