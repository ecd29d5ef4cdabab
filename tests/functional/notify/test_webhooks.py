"""Webhook notifications to a real HTTP receiver that checks each signature on its
own: signed JSON, retries with exponential backoff, giving up, secrets kept."""

from __future__ import annotations

import datetime as dt

from tests.functional.notify.helpers import (
    WEBHOOK_SECRET,
    configure,
    deliver,
    outbox,
    person,
    webhook,
)
from tests.functional.notify.servers import webhook_receiver
from tests.support import (
    OPERATOR,
    ORIGIN,
    Setup,
    capture_logs,
    find_leaks,
    token_fragments,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings


def test_a_webhook_gets_signed_json_it_can_verify(
    setup: Setup, clock: FrozenClock
) -> None:
    """The receiver verifies HMAC-SHA256 over timestamp and body with the shared
    secret, and the JSON names the event and the token, never its secret."""
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(setup, webhooks=[webhook("siem", url)])
        issued = setup.issue("alice", label="jira-sync")

        assert deliver(setup).sent == 1

    [call] = receiver.calls
    assert call.signature_valid
    assert call.status == 204
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-tokenward-event"] == "token_created_for_you"
    assert call.headers["x-tokenward-timestamp"] == str(int(clock.now().timestamp()))
    document = call.document
    assert document["event"] == "token_created_for_you"
    assert document["id"] == call.headers["x-tokenward-delivery"]
    assert document["data"]["token_id"] == issued.token.id
    assert document["data"]["owner"] == "alice"
    assert document["data"]["label"] == "jira-sync"
    assert document["data"]["actor"] == "test"
    assert (
        find_leaks(token_fragments("token", issued.secret), {"body": call.body}) == []
    )


def test_a_failing_receiver_is_retried_with_exponential_backoff(
    settings: Settings, clock: FrozenClock
) -> None:
    """Two 503 answers are retried after 60 s and then 120 s, the third attempt
    lands, and every attempt carries the same delivery id, freshly signed."""
    setup = Setup(settings.model_copy(update={"notify_retry_seconds": 60}), clock)
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET, fail_first=2) as (url, receiver):
        configure(setup, webhooks=[webhook("siem", url)])
        setup.issue("alice", label="ci")
        start = clock.now()

        assert deliver(setup).retrying == 1
        assert outbox(setup)[0].next_attempt_at == start + dt.timedelta(seconds=60)
        clock.advance(dt.timedelta(seconds=59))
        assert deliver(setup).retrying == 0, "nothing is due before the backoff"
        clock.advance(dt.timedelta(seconds=1))
        assert deliver(setup).retrying == 1
        [row] = outbox(setup)
        assert row.next_attempt_at == clock.now() + dt.timedelta(seconds=120)
        clock.advance(dt.timedelta(seconds=120))
        assert deliver(setup).sent == 1

    assert [call.status for call in receiver.calls] == [503, 503, 204]
    assert all(call.signature_valid for call in receiver.calls)
    assert len({call.headers["x-tokenward-delivery"] for call in receiver.calls}) == 1
    [row] = outbox(setup)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_after_the_last_attempt_the_notification_fails_and_is_logged(
    settings: Settings, clock: FrozenClock
) -> None:
    """With `notify_max_attempts = 3` the third failure marks the notification
    failed, logs `notification_failed` once, and nothing more is tried."""
    setup = Setup(
        settings.model_copy(
            update={"notify_max_attempts": 3, "notify_retry_seconds": 1}
        ),
        clock,
    )
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET, fail_first=100) as (url, receiver):
        configure(setup, webhooks=[webhook("siem", url)])
        setup.issue("alice", label="ci")
        with capture_logs(settings) as logs:
            for _ in range(5):
                deliver(setup)
                clock.advance(dt.timedelta(hours=1))

    assert len(receiver.calls) == 3
    [row] = outbox(setup)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "503" in (row.last_error or "")
    assert logs.getvalue().count("notification_failed") == 1


def test_a_receiver_with_another_secret_refuses_until_the_secret_matches(
    setup: Setup, clock: FrozenClock
) -> None:
    """A signature made with another secret does not verify at the receiver; after
    the administrator sets the right secret, the retry verifies."""
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(setup, webhooks=[{"name": "siem", "url": url, "secret": "x" * 32}])
        setup.issue("alice", label="ci")
        assert deliver(setup).retrying == 1
        configure(setup, webhooks=[webhook("siem", url)])
        clock.advance(dt.timedelta(hours=1))
        assert deliver(setup).sent == 1

    assert [call.signature_valid for call in receiver.calls] == [False, True]


def test_events_a_webhook_does_not_subscribe_to_are_not_sent(setup: Setup) -> None:
    """A webhook subscribed to revocations only gets no creation event."""
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(
            setup,
            webhooks=[webhook("siem", url, events=["token_revoked_for_you"])],
        )
        issued = setup.issue("alice", label="ci")
        setup.run(
            lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [issued.token.id], managed=True)
        )
        deliver(setup)

    assert [call.document["event"] for call in receiver.calls] == [
        "token_revoked_for_you"
    ]


def test_a_disabled_webhook_gets_nothing(setup: Setup) -> None:
    """A webhook switched off is kept, with its secret, but called for nothing."""
    person(setup, "alice")
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(setup, webhooks=[webhook("siem", url, enabled=False)])
        setup.issue("alice", label="ci")
        deliver(setup)

    assert receiver.calls == []
    assert outbox(setup) == []
