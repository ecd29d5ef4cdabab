"""With `gate_identity = "inject"`, the gate swaps the caller's tokenward token for
their stored upstream credential, and refuses when there is none (G6)."""

from __future__ import annotations

import base64
import time

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from tests.functional.upstream.conftest import forward_auth, new_pat, save
from tests.functional.upstream.fake_jira import FakeJira
from tests.support import OPERATOR, ORIGIN, LiveServer, Setup
from tokenward.audit.models import AuditRecord
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.upstream.errors import CredentialUnreadableError
from tokenward.upstream.models import UpstreamCredential

IDENTITY_HEADERS = (
    "x-tokenward-user",
    "x-tokenward-groups",
    "x-tokenward-token-id",
    "x-tokenward-scope",
)
# How long to wait for what happens after an answer (another process's change
# reaching the watcher, whose poll runs every 0.05 s here; a refusal's audit
# record): only a broken run comes near it.
WATCHER_BOUND_SECONDS = 10.0


def last_gate_decision(setup: Setup) -> AuditRecord:
    """The newest gate decision record; a refusal's record is committed in the
    next group, so it is waited for, within a bound."""
    deadline = time.monotonic() + WATCHER_BOUND_SECONDS
    while True:
        decisions = [r for r in setup.audit_trail() if r.event == "gate_decision"]
        if decisions or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert decisions, "no gate decision was audited"

    return decisions[-1]


def saved_pat(server: LiveServer, jira: FakeJira, token: str, username: str) -> str:
    pat = new_pat()
    jira.accept(f"Bearer {pat}", username)
    answer = save(server, token, pat)
    assert answer.status_code == 200, answer.text

    return pat


def test_an_allowed_request_carries_the_users_pat(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """Forward auth allows with `X-Tokenward-Authorization: Bearer <pat>` and no
    identity headers: the upstream learns the user from the credential."""
    alice = setup.user("alice")
    pat = saved_pat(server, jira, alice, "alice")

    answer = forward_auth(server, alice)

    assert answer.status_code == 200, answer.headers
    assert answer.headers["x-tokenward-authorization"] == f"Bearer {pat}"
    assert answer.headers["x-tokenward-reason"] == "token_valid"
    assert [name for name in IDENTITY_HEADERS if name in answer.headers] == []
    assert answer.content == b""


def test_a_basic_credential_is_injected_as_basic(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A stored username:password is injected as `Basic base64(username:password)`."""
    alice = setup.user("alice")
    pair = "alice:correct horse battery"
    expected = "Basic " + base64.b64encode(pair.encode()).decode()
    jira.accept(expected, "alice")
    assert save(server, alice, pair, scheme="basic").status_code == 200

    answer = forward_auth(server, alice)

    assert answer.status_code == 200
    assert answer.headers["x-tokenward-authorization"] == expected


def test_a_user_without_a_credential_is_refused(
    server: LiveServer, setup: Setup
) -> None:
    """A valid token whose owner stored no credential gets 403
    `upstream_credential_missing`, with nothing to inject, and is audited so."""
    bob = setup.user("bob")

    answer = forward_auth(server, bob)

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "upstream_credential_missing"
    assert "x-tokenward-authorization" not in answer.headers
    decision = last_gate_decision(setup)
    assert (decision.outcome, decision.reason, decision.subject) == (
        "denied",
        "upstream_credential_missing",
        "bob",
    )


def test_a_refused_token_is_never_swapped(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A read-only token's write is refused as such, not given the PAT."""
    alice = setup.user("alice")
    saved_pat(server, jira, alice, "alice")
    read_only = setup.token("alice", label="reader", scope="read-only")

    answer = forward_auth(server, read_only, method="DELETE")

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "read_only_scope"
    assert "x-tokenward-authorization" not in answer.headers


def test_after_delete_the_next_check_refuses(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """Deleting the credential takes effect on the very next request, though the
    gate had it cached."""
    alice = setup.user("alice")
    saved_pat(server, jira, alice, "alice")
    assert forward_auth(server, alice).status_code == 200

    with server.client(alice) as api:
        assert api.delete("/me/upstream-credential").status_code == 204
    answer = forward_auth(server, alice)

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "upstream_credential_missing"


def test_a_replaced_credential_is_injected_at_once(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """After saving a new PAT, the next request carries the new one."""
    alice = setup.user("alice")
    saved_pat(server, jira, alice, "alice")
    assert forward_auth(server, alice).status_code == 200

    newer = saved_pat(server, jira, alice, "alice")
    answer = forward_auth(server, alice)

    assert answer.headers["x-tokenward-authorization"] == f"Bearer {newer}"


def test_a_removal_by_another_process_reaches_the_gate(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A removal made elsewhere (as `tokenward upstream-credential remove` does)
    reaches the running gate through its change watcher."""
    alice = setup.user("alice")
    saved_pat(server, jira, alice, "alice")
    assert forward_auth(server, alice).status_code == 200

    setup.run(lambda c: c.upstream_credentials.remove(OPERATOR, ORIGIN, "alice"))
    deadline = time.monotonic() + WATCHER_BOUND_SECONDS
    answer = forward_auth(server, alice)
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = forward_auth(server, alice)

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "upstream_credential_missing"


def test_a_row_copied_onto_another_user_is_not_injected(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """Alice's sealed PAT copied into Bob's row in the database does not decrypt
    for Bob: the gate refuses him rather than inject Alice's PAT."""
    alice = setup.user("alice")
    bob = setup.user("bob")
    alices = saved_pat(server, jira, alice, "alice")
    saved_pat(server, jira, bob, "bob")

    async def copy_alices_onto_bobs(container: Container) -> None:
        async with container.db.write() as session:
            rows = {
                row.user.username: row
                for row in await session.scalars(select(UpstreamCredential))
            }
            await session.execute(
                update(UpstreamCredential)
                .where(UpstreamCredential.id == rows["bob"].id)
                .values(encrypted_value=rows["alice"].encrypted_value)
            )

    # Bob's credential was never looked up since it was saved (which cleared the
    # cache), so the gate reads the copied row.
    setup.run(copy_alices_onto_bobs)
    answer = forward_auth(server, bob)

    assert answer.status_code == 403
    assert answer.headers["x-tokenward-reason"] == "upstream_credential_missing"
    assert alices not in str(answer.headers)
    assert forward_auth(server, alice).headers["x-tokenward-authorization"] == (
        f"Bearer {alices}"
    )


def test_another_instance_secret_cannot_use_stored_credentials(
    server: LiveServer, setup: Setup, jira: FakeJira, settings: Settings
) -> None:
    """Under a new instance secret a stored credential shows as not current, and
    checking it says to save it again instead of sending garbage upstream."""
    alice = setup.user("alice")
    saved_pat(server, jira, alice, "alice")
    rotated = Setup(
        settings.model_copy(update={"instance_secret": SecretStr("n" * 40)}),
        setup.clock,
    )

    shown = rotated.run(lambda c: c.upstream_credentials.get(OPERATOR, "alice"))
    with pytest.raises(CredentialUnreadableError, match="save it again"):
        rotated.run(lambda c: c.upstream_credentials.check(OPERATOR, ORIGIN, "alice"))

    assert shown.key_current is False
    assert len(jira.seen) == 1
