"""Inactivity expiry (SPEC P4) on a frozen clock: tokens unused for the policy's
number of days expire, once, audited, and the gate refuses them from then on."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest

from tests.conftest import START
from tests.support import OPERATOR, ORIGIN, LiveServer, Setup, start_server
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.jobs.expiry import record_expiries
from tokenward.policies.governance import Action
from tokenward.policies.token_policy import TokenPolicyDocument

DAY = dt.timedelta(days=1)


def set_inactivity(setup: Setup, days: int | None) -> None:
    """Save a token policy with `inactivity_days`, keeping any token it breaks."""
    policy = TokenPolicyDocument(inactivity_days=days)
    setup.run(lambda c: c.token_policy.apply(OPERATOR, ORIGIN, policy, Action.KEEP))


def expire_inactive(setup: Setup, **options: Any) -> list[str]:
    """Run the inactivity expiry as the job runner does, at the clock's time."""
    return setup.run(
        lambda c: c.token_policy.expire_inactive(setup.clock.now(), **options)
    )


def use_through_the_gate(server: LiveServer, secret: str) -> None:
    """One allowed request through forward auth, as nginx would ask it."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.get(
            "/auth/forward",
            headers={
                "Authorization": f"Bearer {secret}",
                "X-Forwarded-Method": "GET",
                "X-Forwarded-Uri": "/rest/api/2/myself",
            },
        )
    assert answer.status_code == 200, answer.text


def status(setup: Setup, token_id: str) -> tuple[str, dt.datetime | None]:
    """A token's status at the clock's time, and its expiry."""
    token = setup.run(lambda c: c.tokens.get(OPERATOR, token_id, managed=True))

    return token.status_at(setup.clock.now()), token.expires_at


def expiries(setup: Setup) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    return [
        (record.token_id, record.actor, record.details)
        for record in setup.audit_trail()
        if record.event == "token_expired"
    ]


def test_nothing_expires_while_inactivity_is_off(setup: Setup) -> None:
    """By default there is no inactivity expiry, however long a token is idle."""
    setup.user("alice")
    setup.issue("alice", label="idle", never_expires=True)
    setup.clock.advance(3000 * DAY)

    assert expire_inactive(setup) == []
    assert expiries(setup) == []


def test_unused_tokens_expire(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """A token unused for the policy's days (since its last use, or its creation
    if never used) expires at the run's time, audited with reason "inactivity";
    a token used since, a revoked one and an expired one are left alone."""
    setup.run(lambda c: c.directory.create_user(OPERATOR, ORIGIN, username="alice"))
    idle = setup.issue("alice", label="idle", never_expires=True)
    used = setup.issue("alice", label="used", never_expires=True)
    revoked = setup.issue("alice", label="revoked", never_expires=True)
    short = setup.issue("alice", label="short", expires_in_days=5)
    setup.run(
        lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [revoked.token.id], managed=True)
    )
    set_inactivity(setup, 30)
    clock.advance(20 * DAY)
    with start_server(settings, clock) as server:
        use_through_the_gate(server, used.secret)
    clock.advance(10 * DAY - dt.timedelta(seconds=1))
    assert expire_inactive(setup) == []

    clock.advance(dt.timedelta(seconds=1))  # idle: unused for exactly 30 days
    first = expire_inactive(setup)

    assert first == [idle.token.id]
    assert status(setup, idle.token.id) == ("expired", START + 30 * DAY)
    assert status(setup, used.token.id) == ("active", None)
    assert status(setup, revoked.token.id)[0] == "revoked"
    assert status(setup, short.token.id) == ("expired", START + 5 * DAY)
    assert expiries(setup) == [
        (
            idle.token.id,
            None,
            {"reason": "inactivity", "inactivity_days": 30, "last_used_at": None},
        )
    ]
    with start_server(settings, clock) as server:
        assert not server.accepts(idle.secret)
        assert server.accepts(used.secret)
    recorded = setup.run(lambda c: record_expiries(c.db, c.clock))
    assert recorded == 1  # `short`, whose own expiry passed; not `idle` again

    clock.advance(20 * DAY - dt.timedelta(seconds=1))
    assert expire_inactive(setup) == []
    clock.advance(dt.timedelta(seconds=1))  # `used`: 30 days since its use
    assert expire_inactive(setup) == [used.token.id]
    token_id, _, details = expiries(setup)[-1]
    assert token_id == used.token.id
    assert details["last_used_at"] == (START + 20 * DAY).isoformat()


def test_a_second_run_expires_nothing_again(setup: Setup) -> None:
    """Runs go in batches, with a pause between them; running again at the same
    time or later records no second expiry."""
    setup.user("alice")
    for label in ("a", "b", "c"):
        setup.issue("alice", label=label, never_expires=True)
    set_inactivity(setup, 7)
    setup.clock.advance(7 * DAY)

    pauses: list[int] = []

    async def pause() -> None:
        pauses.append(1)

    first = expire_inactive(setup, batch=2, between_batches=pause)
    again = expire_inactive(setup, batch=2)
    setup.clock.advance(DAY)
    later = expire_inactive(setup)

    assert len(first) == 4  # three, and alice's setup token
    assert len(pauses) == 2  # after each full batch of two
    assert again == later == []
    assert sorted(str(token_id) for token_id, _, _ in expiries(setup)) == sorted(first)


def test_concurrent_runs_expire_each_token_once(setup: Setup) -> None:
    """Two runs at once, as two instances would, share the work: each token is
    expired and audited exactly once."""
    setup.user("alice")
    for number in range(9):
        setup.issue("alice", label=f"t{number}", never_expires=True)
    set_inactivity(setup, 7)
    setup.clock.advance(8 * DAY)
    now = setup.clock.now()

    async def both() -> tuple[list[str], list[str]]:
        one = Container(setup.settings, clock=setup.clock)
        two = Container(setup.settings, clock=setup.clock)
        try:
            first, second = await asyncio.gather(
                one.token_policy.expire_inactive(now, batch=2),
                two.token_policy.expire_inactive(now, batch=2),
            )
        finally:
            await one.close()
            await two.close()

        return first, second

    first, second = asyncio.run(both())

    assert not set(first) & set(second)
    assert len(first) + len(second) == 10
    assert len(expiries(setup)) == 10


def test_manual_run_over_http(server: LiveServer, setup: Setup) -> None:
    """An administrator can run the expiry at once; the audit names them."""
    admin = setup.admin()
    setup.user("alice")
    idle = setup.issue("alice", label="idle", never_expires=True)
    with server.client(admin) as api:
        saved = api.put("/policies/tokens", json={"inactivity_days": 10})
    assert saved.status_code == 200, saved.text
    setup.clock.advance(10 * DAY)

    with server.client(admin) as api:
        answer = api.post("/policies/tokens/expire-inactive")

    assert answer.status_code == 200, answer.text
    assert idle.token.id in answer.json()["expired"]
    assert not server.accepts(idle.secret)
    assert (idle.token.id, "admin") in {(t, a) for t, a, _ in expiries(setup)}


@pytest.mark.parametrize("batch", [0, -1])
def test_batch_size_is_positive(setup: Setup, batch: int) -> None:
    """A batch of no tokens is a programming error, not an endless loop."""
    set_inactivity(setup, 1)

    with pytest.raises(ValueError, match="at least one token"):
        expire_inactive(setup, batch=batch)
