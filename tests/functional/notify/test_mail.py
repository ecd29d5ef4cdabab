"""E-mail notifications through a real SMTP server: plain, STARTTLS with AUTH,
implicit TLS, refused recipients, an untrusted certificate."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from tests.functional.notify.helpers import (
    configure,
    deliver,
    outbox,
    person,
)
from tests.functional.notify.servers import Mailbox, smtp_server
from tests.support import OPERATOR, ORIGIN, Setup, find_leaks, token_fragments
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.notify.events import Channel, NotificationEvent
from tokenward.notify.outbox import Outgoing, enqueue
from tokenward.tokens.specs import TokenSpec


def test_token_created_for_someone_is_mailed_over_starttls_with_auth(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """A token an operator creates for alice reaches her by mail, sent over
    STARTTLS after logging in, and the mail holds the token's id, not its secret."""
    with smtp_server(
        tmp_path, security="starttls", credentials=("mailer", "mail-password-1")
    ) as mailbox:
        setup = Setup(
            settings.model_copy(
                update=mailbox.settings(
                    smtp_username="mailer",
                    smtp_password=SecretStr("mail-password-1"),
                )
            ),
            clock,
        )
        address = person(setup, "alice")
        configure(setup, email=True)
        issued = setup.issue("alice", label="jira-sync")

        report = deliver(setup)

        assert report.sent == 1, report
        [mail] = mailbox.received
    assert mail.over_tls
    assert mail.login == "mailer"
    assert mail.recipients == [address]
    assert mail.message["To"] == address
    assert mail.message["From"] == "tokenward@example.test"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Subject"] == (
        "tokenward: test created a token 'jira-sync' for you"
    )
    assert issued.token.id in mail.text
    assert find_leaks(token_fragments("token", issued.secret), {"mail": mail.raw}) == []


def test_implicit_tls_delivers(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """With `smtp_security = "tls"` the whole conversation is inside TLS."""
    with smtp_server(tmp_path, security="tls") as mailbox:
        setup = Setup(settings.model_copy(update=mailbox.settings()), clock)
        person(setup, "alice")
        configure(setup, email=True)
        setup.issue("alice", label="ci")

        assert deliver(setup).sent == 1
        [mail] = mailbox.received
    assert mail.over_tls


def test_a_server_certificate_not_trusted_is_not_sent_to(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """Without the CA that signed the server's certificate, nothing is sent: the
    attempt fails and is retried later, and the mail stays queued."""
    with smtp_server(tmp_path, security="starttls") as mailbox:
        setup = Setup(
            settings.model_copy(update=mailbox.settings(smtp_ca_file=None)), clock
        )
        person(setup, "alice")
        configure(setup, email=True)
        setup.issue("alice", label="ci")

        report = deliver(setup)

        assert mailbox.received == []
    assert (report.sent, report.retrying) == (0, 1)
    [row] = outbox(setup)
    assert row.status == "pending"
    assert row.attempts == 1
    assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")


def test_wrong_smtp_password_is_retried_then_reported(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """A login the server refuses fails the attempt without sending anything."""
    with smtp_server(
        tmp_path, security="starttls", credentials=("mailer", "right-password")
    ) as mailbox:
        setup = Setup(
            settings.model_copy(
                update=mailbox.settings(
                    smtp_username="mailer", smtp_password=SecretStr("wrong-password")
                )
            ),
            clock,
        )
        person(setup, "alice")
        configure(setup, email=True)
        setup.issue("alice", label="ci")

        report = deliver(setup)

        assert mailbox.received == []
    assert report.retrying == 1
    assert "535" in (outbox(setup)[0].last_error or "")


def test_a_recipient_refused_for_good_fails_at_once(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """A 5xx refusal of the only recipient marks the notification failed without
    retries: sending again cannot help."""
    with smtp_server(tmp_path, refused=("alice@example.test",)) as mailbox:
        setup = Setup(settings.model_copy(update=mailbox.settings()), clock)
        person(setup, "alice")
        configure(setup, email=True)
        setup.issue("alice", label="ci")

        report = deliver(setup)

    assert (report.sent, report.failed) == (0, 1)
    [row] = outbox(setup)
    assert row.status == "failed"
    assert "550" in (row.last_error or "")


def test_the_owner_acting_alone_is_not_mailed(
    mail_setup: Setup, mailbox: Mailbox
) -> None:
    """Creating and revoking one's own token sends nothing: only changes made by
    someone else are news to the owner."""
    person(mail_setup, "alice")
    configure(mail_setup, email=True)
    issued = mail_setup.issue("alice", label="ci")

    async def own_work(container: Container) -> None:
        owner = await container.tokens.authenticate(issued.secret)
        await container.tokens.create(owner, ORIGIN, TokenSpec(label="own"))
        await container.tokens.revoke_all(owner, ORIGIN)

    outbox_before = len(outbox(mail_setup))
    mail_setup.run(own_work)

    assert len(outbox(mail_setup)) == outbox_before == 1


def test_revocation_by_someone_else_is_mailed_with_the_reason(
    mail_setup: Setup, mailbox: Mailbox
) -> None:
    """A token manager's revocation tells the owner who did it and why."""
    person(mail_setup, "alice")
    configure(mail_setup, email=True)
    issued = mail_setup.issue("alice", label="ci")
    deliver(mail_setup)

    mail_setup.run(
        lambda c: c.tokens.revoke(
            OPERATOR, ORIGIN, [issued.token.id], reason="leaked in a log", managed=True
        )
    )
    assert deliver(mail_setup).sent == 1

    mail = mailbox.received[-1]
    assert mail.message["Subject"] == "tokenward: test revoked your token 'ci'"
    assert "leaked in a log" in mail.text


def test_email_off_sends_nothing(mail_setup: Setup, mailbox: Mailbox) -> None:
    """With e-mail switched off (the default) nothing is queued or sent."""
    person(mail_setup, "alice")
    mail_setup.issue("alice", label="ci")

    assert deliver(mail_setup).sent == 0
    assert outbox(mail_setup) == []
    assert mailbox.received == []


def test_a_message_that_cannot_be_built_does_not_stall_the_outbox(
    mail_setup: Setup, mailbox: Mailbox
) -> None:
    """A queued mail that fails in an unexpected way counts as a failed attempt,
    and the mail queued after it is still sent."""
    person(mail_setup, "alice")
    configure(mail_setup, email=True)

    async def queue(container: Container) -> None:
        broken = Outgoing(
            event=NotificationEvent.TOKEN_CREATED_FOR_YOU,
            channel=Channel.EMAIL,
            target="owner",
            recipients=("alice@example.test",),
            payload={"audience": "owner"},  # no token facts to render
            dedupe_key="broken",
        )
        async with container.db.write() as session:
            await enqueue(session, [broken], now=container.clock.now())

    mail_setup.run(queue)
    mail_setup.issue("alice", label="ci")

    report = deliver(mail_setup)

    assert (report.sent, report.retrying) == (1, 1)
    assert len(mailbox.received) == 1
    assert "KeyError" in (outbox(mail_setup)[0].last_error or "")
