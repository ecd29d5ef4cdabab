"""Operations endpoints (SPEC I5): liveness, readiness, Prometheus metrics.

`/livez` answers while the process runs; it never touches the database, or a
database outage would become a restart storm. `/readyz` checks that the database
answers and that the gate (its audit writer above all) runs.
"""

from __future__ import annotations

import json

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tokenward.gate.runtime import GateRuntime
from tokenward.web.asgi import Receive, Scope, Send

OPERATION_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


class OperationsApp:
    def __init__(self, runtime: GateRuntime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == "/livez":
            await _send(send, 200, b'{"status":"pass"}', "application/json")
        elif path == "/readyz":
            problems = await self._problems()
            body = json.dumps(
                {"status": "fail" if problems else "pass", "problems": problems}
            ).encode()
            await _send(send, 503 if problems else 200, body, "application/json")
        else:
            await _send(
                send, 200, generate_latest(self._runtime.registry), CONTENT_TYPE_LATEST
            )

    async def _problems(self) -> list[str]:
        problems = []
        if not self._runtime.running:
            problems.append("the gate is not running")
        try:
            async with self._runtime.db.read() as session:
                await session.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as error:
            problems.append(f"database: {type(error).__name__}")

        return problems


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
