"""Micro-benchmarks of the pieces of a forward-auth check, in-process.

    .venv/bin/python bench/pieces.py

Prints microseconds per call for the decision on a cached token, the chain hash of
one audit record, a hand-over to another thread and back (what each statement
through aiosqlite pays), the audit insert per record for batches of 32 and 256 (SQLite,
durable settings), and a whole forward-auth request driven through the ASGI app
without a server: 32 at a time, their audit records committed by the writer as in
the server, once for each audit mode. These explain bench/forward_auth.py's
figures; they are not a substitute for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from tokenward.audit.chain import link
from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.services import AuditEntry, Origin, append_many
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.gate.decision import GateRequest
from tokenward.gate.forward_auth import ForwardAuthApp
from tokenward.gate.runtime import GateRuntime
from tokenward.migrations import upgrade
from tokenward.policies.permissions import Actor
from tokenward.tokens.specs import TokenSpec
from tokenward.web.asgi import Message

CALLS = 20_000
CONCURRENT = 32


async def main() -> None:
    settings = Settings(data_dir=tempfile.mkdtemp(), instance_secret="p" * 40)
    upgrade(settings.resolved_database_url)
    container = Container(settings)
    await container.bootstrap.create_admin(Origin(), username="pieces")
    issued = await container.tokens.create(
        Actor.operator(), Origin(), TokenSpec(label="pieces"), owner="pieces"
    )
    runtime = GateRuntime(container)
    await runtime.start()
    try:
        request = GateRequest(
            method="GET",
            path="/rest/api/2/issue/BENCH-1",
            query="",
            client_ip=ipaddress.ip_address("127.0.0.1"),
            authorization=f"Bearer {issued.secret}",
        )
        await runtime.gate._decide(request)
        started = time.perf_counter()
        for _ in range(CALLS):
            await runtime.gate._decide(request)
        _report("decision, cached token", started, CALLS)

        now = dt.datetime.now(dt.UTC)
        row = {"seq": 1, "occurred_at": now, "event": "gate_decision", "details": {}}
        started = time.perf_counter()
        for _ in range(CALLS):
            link("0" * 64, row)
        _report("chain hash of one record", started, CALLS)

        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as thread:
            started = time.perf_counter()
            for _ in range(CALLS // 10):
                await loop.run_in_executor(thread, int)
            _report("hand-over to a thread and back", started, CALLS // 10)

        entry = AuditEntry(
            AuditEvent.GATE_DECISION,
            outcome=Outcome.ALLOWED,
            reason="token_valid",
            subject="pieces",
            token_id=issued.token.id,
        )
        origin = Origin(
            client_ip="127.0.0.1",
            method="GET",
            path="/rest/api/2/issue/BENCH-1",
            user_agent="wrk/4.1",
            request_id="0123456789abcdef",
        )
        for size in (32, 256):
            batches = 100
            started = time.perf_counter()
            for _ in range(batches):
                async with container.db.write() as session:
                    await append_many(session, [(entry, origin, now)] * size)
            _report(
                f"audit insert per record, batches of {size}", started, batches * size
            )
        for durable in (True, False):
            await _whole_requests(runtime, issued.secret, durable=durable)
    finally:
        await runtime.stop()
        await container.close()


async def _whole_requests(runtime: GateRuntime, secret: str, *, durable: bool) -> None:
    """Forward-auth requests through the plain ASGI app, as uvicorn would call it."""
    runtime.gate._durable_audit = durable
    app = ForwardAuthApp(runtime)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/auth/nginx",
        "client": ("127.0.0.1", 40000),
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"authorization", f"Bearer {secret}".encode()),
            (b"x-original-method", b"GET"),
            (b"x-original-uri", b"/rest/api/2/issue/BENCH-1"),
            (b"user-agent", b"wrk/4.1"),
        ],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"refused: {message}")

    rounds = CALLS // CONCURRENT
    started = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(app(scope, receive, send) for _ in range(CONCURRENT)))
    await runtime.audit.stop()  # what is still queued is part of the work
    runtime.audit.start()
    mode = "durable" if durable else "lossy"
    _report(f"forward auth, whole request, audit {mode}", started, rounds * CONCURRENT)


def _report(label: str, started: float, calls: int) -> None:
    print(f"{label:45s} {(time.perf_counter() - started) / calls * 1e6:7.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
