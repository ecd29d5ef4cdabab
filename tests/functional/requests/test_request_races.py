"""Two instances acting on the same token requests at once: each request expires
once, and an approved one is generated once."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support import ORIGIN, Setup
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.directory.services import find_user
from tokenward.errors import ConflictError
from tokenward.policies.permissions import Actor, Permission
from tokenward.policies.services import actor_for
from tokenward.requests.expiry import expire_requests
from tokenward.requests.models import TokenRequest
from tokenward.requests.rules import Approval, RequestSpec

REQUESTS = 12

Work = Callable[[Container], Awaitable[Any]]


def both_at_once(settings: Settings, clock: FrozenClock, work: Work) -> list[Any]:
    """What `work` returned (or raised) in each of two Containers, each in its
    own thread and event loop, let go at the same moment."""
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[Any] = []

    def instance() -> None:
        async def main() -> Any:
            container = Container(settings, clock=clock)
            try:
                barrier.wait()
                return await work(container)
            finally:
                await container.close()

        try:
            outcomes.append(asyncio.run(main()))
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcomes.append(error)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an instance hung"

    return outcomes


def alice(setup: Setup) -> Actor:
    """alice, who may hold tokens but not create them, as the services see her."""
    setup.user("alice")
    setup.user("manager", groups=("token-managers",))
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["token-managers"])

    async def work(container: Container) -> Actor:
        async with container.db.read() as session:
            return await actor_for(session, await find_user(session, "alice"))

    return setup.run(work)


def ask(setup: Setup, actor: Actor, label: str) -> TokenRequest:
    spec = RequestSpec(label=label, reason="sync", lifetime_days=30)

    return setup.run(lambda c: c.token_requests.create(actor, ORIGIN, spec))


def test_each_request_expires_once(
    setup: Setup, settings: Settings, clock: FrozenClock
) -> None:
    """Two expiry runs at once, in small batches, expire every request once."""
    actor = alice(setup)
    for number in range(REQUESTS):
        ask(setup, actor, f"r{number}")
    clock.advance(dt.timedelta(days=15))

    counts = both_at_once(
        settings, clock, lambda c: expire_requests(c.db, c.clock, batch=5)
    )

    assert sum(counts) == REQUESTS, counts
    expired = [r for r in setup.audit_trail() if r.event == "token_request_expired"]
    assert len(expired) == REQUESTS
    assert len({r.details["request_id"] for r in expired}) == REQUESTS


def test_an_approved_request_is_generated_once(
    setup: Setup, settings: Settings, clock: FrozenClock
) -> None:
    """Two generations at once: one token, and a conflict for the other."""
    actor = alice(setup)
    request = ask(setup, actor, "jira")
    manager = Actor.operator("manager")
    setup.run(
        lambda c: c.token_requests.approve(manager, ORIGIN, request.id, Approval())
    )

    outcomes = both_at_once(
        settings, clock, lambda c: c.token_requests.fulfil(actor, ORIGIN, request.id)
    )

    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    issued = [o for o in outcomes if not isinstance(o, Exception)]
    assert (len(issued), len(conflicts)) == (1, 1), outcomes
    created = [r for r in setup.audit_trail() if r.event == "token_created"]
    assert [r.token_id for r in created if r.subject == "alice"][-1] == (
        issued[0].token.id
    )
    fulfilled = [r for r in setup.audit_trail() if r.event == "token_request_fulfilled"]
    assert len(fulfilled) == 1
