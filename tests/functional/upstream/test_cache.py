"""The gate's cache of decrypted upstream credentials: bounded, remembers users
without one, and is emptied by every announced change (G6, DESIGN "The hot path")."""

from __future__ import annotations

from tests.functional.upstream.conftest import new_pat
from tests.functional.upstream.fake_jira import FakeJira
from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.container import Container
from tokenward.gate.changes import bump
from tokenward.upstream.injection import InjectedCredentials
from tokenward.upstream.schemes import Scheme


def test_cache_is_bounded_and_cleared_by_changes(setup: Setup, jira: FakeJira) -> None:
    """At most `max_entries` users are held, least recently used out first; a user
    without a credential is remembered as such; a committed change empties it."""
    pats = {name: new_pat() for name in ("ann", "ben", "cat")}

    async def save_all(container: Container) -> None:
        for name, pat in pats.items():
            await container.upstream_credentials.save(
                OPERATOR, ORIGIN, name, Scheme.BEARER, pat
            )

    for name, pat in pats.items():
        setup.user(name)
        jira.accept(f"Bearer {pat}", name)
    setup.user("dan")
    setup.run(save_all)

    async def work(container: Container) -> tuple[list[str | None], int, int, int]:
        credentials = InjectedCredentials(
            container.db, container.credential_cipher, max_entries=2
        )
        found = [
            await credentials.authorization_for(name)
            for name in ("ann", "ben", "cat", "dan")
        ]
        held = len(credentials)
        await credentials.authorization_for("nobody")
        async with container.db.write() as session:
            await bump(session)
        after_change = len(credentials)
        await credentials.authorization_for("ann")

        return found, held, after_change, len(credentials)

    found, held, after_change, refilled = setup.run(work)

    assert found == [f"Bearer {pats[n]}" for n in ("ann", "ben", "cat")] + [None]
    assert held == 2
    assert after_change == 0
    assert refilled == 1
