"""Operations endpoints (SPEC I5): liveness, readiness, Prometheus metrics.

`/livez` answers while the process runs; it never touches the database, or a
database outage would become a restart storm. `/readyz` answers 200 only when this
instance can allow a request: the gate (its audit writer above all) runs, the
database answers, and its schema is the one this version of tokenward was built
for. `/metrics` is the Prometheus text format of the gate's registry.

None of them is audited or counted as a gate decision, and none needs a token:
they say nothing about tokens or users. Keep them off the public side of the proxy.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tokenward.gate.runtime import GateRuntime
from tokenward.migrations import current_revision, head_revision
from tokenward.web.asgi import Receive, Scope, Send

LIVEZ = "/livez"
READYZ = "/readyz"
METRICS = "/metrics"
OPERATION_PATHS = frozenset({LIVEZ, READYZ, METRICS})
# A readiness probe must answer before the prober gives up (Kubernetes: 1 s by
# default, often raised); a database that takes longer counts as not answering.
DATABASE_TIMEOUT_SECONDS = 2.0
# The schema check opens its own connection in a thread; probes come every few
# seconds from each prober, so its answer is kept this long.
SCHEMA_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _SchemaAnswer:
    problem: str | None
    checked_at: float


class SchemaCheck:
    """Whether the database's schema is at the head of tokenward's migrations.

    Alembic reads the revision synchronously, so the check runs in a worker thread,
    at most once per `max_age` seconds, and concurrent probes share one run.
    """

    def __init__(
        self,
        database_url: str,
        *,
        max_age: float = SCHEMA_CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = database_url
        self._max_age = max_age
        self._monotonic = monotonic
        self._head: str | None = None
        self._answer: _SchemaAnswer | None = None
        self._running: asyncio.Task[_SchemaAnswer] | None = None

    async def problem(self) -> str | None:
        """What is wrong with the schema, or None if it is current."""
        answer = self._answer
        if answer is not None and self._monotonic() - answer.checked_at < self._max_age:
            return answer.problem
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._check())
        try:
            # Shielded: a probe that gives up must not cancel the run others share.
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                self._answer = await asyncio.shield(self._running)
        except TimeoutError:
            return f"schema: no answer within {DATABASE_TIMEOUT_SECONDS:g} s"

        return self._answer.problem

    async def _check(self) -> _SchemaAnswer:
        try:
            if self._head is None:
                self._head = await asyncio.to_thread(head_revision)
            current = await asyncio.to_thread(current_revision, self._url)
        except (SQLAlchemyError, OSError) as error:
            problem: str | None = f"schema: cannot be read ({type(error).__name__})"
        else:
            problem = (
                None
                if current == self._head
                else f"schema: at {current or 'none'}, tokenward needs {self._head}; "
                "run `tokenward db upgrade`"
            )

        return _SchemaAnswer(problem, self._monotonic())


class OperationsApp:
    def __init__(self, runtime: GateRuntime) -> None:
        self._runtime = runtime
        self._schema = SchemaCheck(runtime.db.url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == LIVEZ:
            await _send(send, 200, b'{"status":"pass"}', "application/json")
        elif path == READYZ:
            problems = await self.problems()
            body = json.dumps(
                {"status": "fail" if problems else "pass", "problems": problems}
            ).encode()
            await _send(send, 503 if problems else 200, body, "application/json")
        else:
            await _send(
                send, 200, generate_latest(self._runtime.registry), CONTENT_TYPE_LATEST
            )

    async def problems(self) -> list[str]:
        """Why this instance cannot serve now; empty when it is ready."""
        problems = []
        if not self._runtime.running:
            problems.append("gate: not running")
        elif not self._runtime.audit.running:
            problems.append("audit: the writer has stopped")
        database = await self._database_problem()
        if database is not None:
            problems.append(database)
        else:
            schema = await self._schema.problem()
            if schema is not None:
                problems.append(schema)

        return problems

    async def _database_problem(self) -> str | None:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                async with self._runtime.db.read() as session:
                    await session.execute(text("SELECT 1"))
        except TimeoutError:
            return f"database: no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
        except (SQLAlchemyError, OSError) as error:
            return f"database: {type(error).__name__}"

        return None


async def _send(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
