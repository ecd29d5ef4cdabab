"""The expiry job: one `token_expired` audit record per expired token, ever."""

from __future__ import annotations

import datetime as dt

from tests.functional.notify.helpers import run
from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.clock import FrozenClock
from tokenward.jobs.expiry import record_expiries
from tokenward.jobs.registry import JOB_NAMES
from tokenward.policies.governance import Action
from tokenward.policies.token_policy import TokenPolicyDocument


def test_each_expired_token_is_audited_once(setup: Setup, clock: FrozenClock) -> None:
    """Tokens past their expiry get one record each, however often the job runs;
    live, revoked and never-expiring tokens get none."""
    setup.user("alice")
    soon = setup.issue("alice", label="soon", expires_in_days=1)
    later = setup.issue("alice", label="later", expires_in_days=3)
    revoked = setup.issue("alice", label="revoked", expires_in_days=1)
    setup.run(
        lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [revoked.token.id], managed=True)
    )
    setup.issue("alice", label="forever", never_expires=True)

    first = run(setup, "expire-tokens")
    clock.advance(dt.timedelta(days=2))
    second = run(setup, "expire-tokens")
    third = run(setup, "expire-tokens")
    clock.advance(dt.timedelta(days=2))
    fourth = run(setup, "expire-tokens")

    assert [r.summary for r in (first, second, third, fourth)] == [
        {"expired": 0},
        {"expired": 1},
        {"expired": 0},
        {"expired": 1},
    ]
    expired = [r for r in setup.audit_trail() if r.event == "token_expired"]
    assert [(r.token_id, r.subject, r.actor) for r in expired] == [
        (soon.token.id, "alice", None),
        (later.token.id, "alice", None),
    ]
    assert soon.token.expires_at is not None
    assert expired[0].details == {"expires_at": soon.token.expires_at.isoformat()}


def test_many_expired_tokens_are_taken_in_batches(
    setup: Setup, clock: FrozenClock
) -> None:
    """More expired tokens than one batch holds are all recorded in one run."""
    setup.user("alice")
    for number in range(7):
        setup.issue("alice", label=f"t{number}", expires_in_days=1)
    clock.advance(dt.timedelta(days=2))

    recorded = setup.run(lambda c: record_expiries(c.db, c.clock, batch=3))

    assert recorded == 7
    assert sum(r.event == "token_expired" for r in setup.audit_trail()) == 7


def test_the_inactivity_job_expires_idle_tokens_audited_once(
    setup: Setup, clock: FrozenClock
) -> None:
    """With an inactivity limit, the job expires a token unused that long with one
    `token_expired` record giving the reason, and the expiry job adds none."""
    setup.user("alice")
    idle = setup.issue("alice", label="idle", expires_in_days=90)
    setup.run(
        lambda c: c.token_policy.apply(
            OPERATOR, ORIGIN, TokenPolicyDocument(inactivity_days=30), Action.KEEP
        )
    )
    clock.advance(dt.timedelta(days=31))

    runs = [run(setup, name) for name in JOB_NAMES]
    again = run(setup, "expire-inactive-tokens")

    assert runs[0].name == "expire-inactive-tokens"
    assert runs[0].summary == {"expired": 2}  # idle, and the setup token
    assert again.summary == {"expired": 0}
    expired = [r for r in setup.audit_trail() if r.event == "token_expired"]
    assert idle.token.id in {r.token_id for r in expired}
    assert len(expired) == 2
    assert {r.reason for r in expired} == {"inactivity"}
