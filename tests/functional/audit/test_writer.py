"""The audit writer of the gate (SPEC A2, A3, G9): group commit, refusal when a
batch cannot be committed, complete records, and usage counters written in batches
of their own.

Most tests drive a real GateRuntime on the test database directly, without HTTP,
so that many decisions can be made to wait on the writer at the same moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import create_engine, event, select, text

from tests.functional.gate.serving import check, tampered
from tests.support import LiveServer, Setup
from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.models import AuditRecord
from tokenward.audit.services import AuditEntry, Origin
from tokenward.audit.writer import AuditUnavailableError
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.db import sync_url
from tokenward.gate.decision import GateRequest
from tokenward.gate.reasons import Reason
from tokenward.gate.runtime import GateRuntime
from tokenward.gate.service import RequestMeta, Verdict
from tokenward.tokens.models import Token

CONCURRENT = 50
# A little more than the usage recorder's flush interval.
USAGE_INTERVAL = 1.1
WAIT_SECONDS = 10.0
AWAY = "tokenward_test_away"


def _request(token: str, address: str = "192.0.2.10") -> GateRequest:
    return GateRequest(
        method="GET",
        path="/rest/api/2/myself",
        query="",
        client_ip=ipaddress.ip_address(address),
        authorization=f"Bearer {token}",
    )


def _meta(request_id: str) -> RequestMeta:
    return RequestMeta(face="test", user_agent="writer-test/1", request_id=request_id)


def _with_runtime(setup: Setup, work: Callable[[GateRuntime], Awaitable[Any]]) -> Any:
    """Run `work` against a started GateRuntime, stopped (and flushed) after."""

    async def main(container: Container) -> Any:
        runtime = GateRuntime(container)
        await runtime.start()
        try:
            return await work(runtime)
        finally:
            await runtime.stop()

    return setup.run(main)


@contextmanager
def table_gone(settings: Settings, table: str) -> Iterator[None]:
    """`table` is renamed away, so that writing to it fails for real, and put back
    after the block."""
    engine = create_engine(sync_url(settings.resolved_database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} RENAME TO {AWAY}"))
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {AWAY} RENAME TO {table}"))
    finally:
        engine.dispose()


def audit_table_gone(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Every audit commit fails while the block runs."""
    return table_gone(settings, "audit_records")


def test_concurrent_decisions_share_batches(setup: Setup) -> None:
    """Decisions waiting together are committed together: fewer batches than
    records, and every one of them allowed and recorded."""
    token = setup.user("alice")

    async def work(runtime: GateRuntime) -> tuple[int, list[Verdict]]:
        # One check first, so the rest find the token cached and reach the writer
        # at once.
        await runtime.gate.check(_request(token), _meta("warm"))
        before = runtime.audit.batches
        verdicts = await asyncio.gather(
            *(
                runtime.gate.check(_request(token), _meta(f"together-{n}"))
                for n in range(CONCURRENT)
            )
        )

        return runtime.audit.batches - before, list(verdicts)

    batches, verdicts = _with_runtime(setup, work)

    assert all(verdict.decision.reason is Reason.TOKEN_VALID for verdict in verdicts)
    assert 1 <= batches < CONCURRENT
    recorded = {record.request_id for record in setup.audit_trail()}
    assert {f"together-{n}" for n in range(CONCURRENT)} <= recorded


def test_a_burst_spread_over_loop_rounds_is_committed_once(setup: Setup) -> None:
    """Records that arrive while the writer is starting a batch join it: requests
    read in one round of the event loop reach the writer in the next, and they
    must not wait for a commit of the first one alone."""
    entry = AuditEntry(AuditEvent.GATE_DECISION, outcome=Outcome.ALLOWED)

    async def work(runtime: GateRuntime) -> int:
        async def one(n: int) -> None:
            for _ in range(n % 2):  # every other record comes one round later
                await asyncio.sleep(0)
            await runtime.audit.record(entry, Origin(request_id=f"burst-{n}"))

        before = runtime.audit.batches
        await asyncio.gather(*(one(n) for n in range(20)))

        return runtime.audit.batches - before

    assert _with_runtime(setup, work) == 1
    recorded = {record.request_id for record in setup.audit_trail()}
    assert {f"burst-{n}" for n in range(20)} <= recorded


def test_a_failed_commit_refuses_every_waiting_caller(
    setup: Setup, settings: Settings
) -> None:
    """When a batch cannot be committed, every caller waiting on it gets
    AuditUnavailableError, each allow becomes a 503 refusal, and the writer
    carries on once the database accepts records again."""
    token = setup.user("alice")
    entry = AuditEntry(AuditEvent.GATE_DECISION, outcome=Outcome.ALLOWED)

    async def work(runtime: GateRuntime) -> dict[str, Any]:
        await runtime.gate.check(_request(token), _meta("before"))
        with audit_table_gone(settings):
            verdicts = await asyncio.gather(
                *(
                    runtime.gate.check(_request(token), _meta(f"lost-{n}"))
                    for n in range(CONCURRENT)
                )
            )
            direct = await asyncio.gather(
                *(runtime.audit.record(entry, Origin()) for _ in range(5)),
                return_exceptions=True,
            )
        after = await runtime.gate.check(_request(token), _meta("after"))

        return {
            "verdicts": verdicts,
            "direct": direct,
            "after": after,
            "failures": runtime.audit.failures,
            "counted": runtime.registry.get_sample_value(
                "tokenward_audit_failures_total"
            ),
        }

    outcome = _with_runtime(setup, work)

    for verdict in outcome["verdicts"]:
        assert verdict.decision.reason is Reason.UNAVAILABLE
        assert verdict.decision.reason.status == 503
        assert verdict.decision.username == "alice"
    assert all(isinstance(e, AuditUnavailableError) for e in outcome["direct"])
    assert outcome["failures"] >= 1
    assert outcome["counted"] == CONCURRENT + 5
    assert outcome["after"].decision.reason is Reason.TOKEN_VALID
    recorded = [record.request_id for record in setup.audit_trail()]
    assert "before" in recorded
    assert "after" in recorded
    assert not [rid for rid in recorded if rid and rid.startswith("lost-")]


def test_the_gate_answers_503_while_audit_records_cannot_be_written(
    server: LiveServer, setup: Setup, settings: Settings
) -> None:
    """Over HTTP, an allow whose record cannot be committed is answered 503 with
    reason `unavailable`, never 200."""
    token = setup.user("alice")
    assert check(server.url, token).status_code == 200

    with audit_table_gone(settings):
        refused = check(server.url, token)
        ready = httpx.get(f"{server.url}/readyz")
    allowed = check(server.url, token)

    assert refused.status_code == 503
    assert refused.headers["x-tokenward-reason"] == "unavailable"
    assert ready.status_code == 200  # the database answers; the audit cannot write
    assert allowed.status_code == 200


def test_records_carry_every_a2_field(server: LiveServer, setup: Setup) -> None:
    """A gate decision's record holds time, event, outcome, reason, the people,
    token id, client address, method, path without query, user agent, request id."""
    setup.user("alice")
    issued = setup.issue("alice", label="ci")

    allowed = check(
        server.url,
        issued.secret,
        method="POST",
        uri="/rest/api/2/search?jql=project%3DX",
        headers={"User-Agent": "jira-cli/3.1", "X-Request-ID": "a2-fields"},
    )
    refused = check(server.url, tampered(issued.secret), uri="/rest/api/2/myself")

    assert allowed.status_code == 200
    assert refused.status_code == 401
    by_outcome = _decisions_by_outcome(setup, {"allowed", "denied"})
    record = by_outcome["allowed"]
    assert record.occurred_at == setup.clock.now()
    assert record.reason == "token_valid"
    assert record.subject == "alice"
    # The token's owner is the one acting; the record may leave the actor implied.
    assert record.actor in (None, "alice")
    assert record.token_id == issued.token.id
    assert record.client_ip == "127.0.0.1"
    assert (record.method, record.path) == ("POST", "/rest/api/2/search")
    assert record.user_agent == "jira-cli/3.1"
    assert record.request_id == "a2-fields"
    assert record.hash
    assert record.prev_hash
    denied = by_outcome["denied"]
    assert denied.reason == "malformed_token"
    assert denied.request_id == refused.headers["x-request-id"]
    assert denied.path == "/rest/api/2/myself"


def _decisions_by_outcome(setup: Setup, outcomes: set[str]) -> dict[str, AuditRecord]:
    """The gate decision records by outcome, once there is one of each of
    `outcomes`: a refusal is answered before its record is committed."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        records = [r for r in setup.audit_trail() if r.event == "gate_decision"]
        by_outcome = {record.outcome: record for record in records}
        if outcomes <= by_outcome.keys():
            return by_outcome
        assert time.monotonic() < deadline, f"records so far: {by_outcome}"
        time.sleep(0.02)


def test_usage_is_written_in_batches_and_flushed_on_stop(
    setup: Setup,
) -> None:
    """Uses are coalesced (far fewer UPDATEs than uses) and all of them, with the
    last few distinct addresses, are stored once the runtime stops."""
    setup.user("alice")
    issued = setup.issue("alice", label="ci")
    addresses = [f"198.51.100.{n % 7}" for n in range(30)]
    updates: list[str] = []

    async def work(runtime: GateRuntime) -> int:
        @event.listens_for(runtime.db.engine.sync_engine, "before_cursor_execute")
        def count(*args: Any) -> None:
            statement = str(args[2])
            if statement.lstrip().upper().startswith("UPDATE TOKENS"):
                updates.append(statement)

        # One at a time: each decision gets a batch of its own.
        for n, address in enumerate(addresses):
            verdict = await runtime.gate.check(
                _request(issued.secret, address), _meta(f"use-{n}")
            )
            assert verdict.decision.allowed

        return runtime.audit.batches

    batches = _with_runtime(setup, work)

    assert batches >= len(addresses)
    assert 1 <= len(updates) < len(addresses)

    async def stored(container: Container) -> Token:
        async with container.db.read() as session:
            token = await session.scalar(
                select(Token).where(Token.id == issued.token.id)
            )
        assert token is not None

        return token

    token = setup.run(stored)
    assert token.use_count == len(addresses)
    assert token.last_used_at == setup.clock.now()
    assert token.last_used_from == _recent_distinct(addresses, 5)


def _recent_distinct(addresses: list[str], limit: int) -> list[str]:
    """The last `limit` distinct addresses, the most recent first."""
    found: list[str] = []
    for address in reversed(addresses):
        if address not in found:
            found.append(address)

    return found[:limit]


def test_uses_taken_by_a_failed_flush_are_kept(
    setup: Setup, settings: Settings
) -> None:
    """Uses whose counter update failed are written with a later flush: none is
    lost, and the failure refuses no request (the audit records are written apart
    from the counters)."""
    setup.user("alice")
    issued = setup.issue("alice", label="ci")

    async def work(runtime: GateRuntime) -> list[Reason]:
        first = await runtime.gate.check(_request(issued.secret), _meta("first"))
        with table_gone(settings, "tokens"):
            during = await runtime.gate.check(_request(issued.secret), _meta("during"))
            # Past the flush interval: a flush takes both uses, and fails.
            await asyncio.sleep(USAGE_INTERVAL)
        last = await runtime.gate.check(_request(issued.secret), _meta("last"))

        return [first.decision.reason, during.decision.reason, last.decision.reason]

    reasons = _with_runtime(setup, work)

    assert reasons == [Reason.TOKEN_VALID] * 3

    async def stored(container: Container) -> int | None:
        async with container.db.read() as session:
            return await session.scalar(
                select(Token.use_count).where(Token.id == issued.token.id)
            )

    assert setup.run(stored) == 3
    recorded = {record.request_id for record in setup.audit_trail()}
    assert {"first", "during", "last"} <= recorded


def test_lossy_mode_answers_allows_without_waiting(
    setup: Setup, settings: Settings
) -> None:
    """With audit_durability=lossy an allow is answered without waiting for its
    record, so it stays an allow even while records cannot be written; the
    durable default refuses the same request (see above)."""
    token = setup.user("alice")
    lossy = Setup(
        settings.model_copy(update={"audit_durability": "lossy"}), setup.clock
    )

    async def work(runtime: GateRuntime) -> Verdict:
        await runtime.gate.check(_request(token), _meta("cached"))
        with audit_table_gone(settings):
            return await runtime.gate.check(_request(token), _meta("unrecorded"))

    verdict = _with_runtime(lossy, work)

    assert verdict.decision.reason is Reason.TOKEN_VALID
