"""An upstream for the reverse proxy tests: plain ASGI that reports what reached it.

- any path: the request as received (method, raw path, query, every header in
  order) and the SHA-256 and size of its body, hashed as it streams in;
- `/download?size=N[&chunked=1]`: N deterministic bytes, in 64 KiB chunks;
- `/endless`: chunks until the proxy hangs up, then notes that it did;
- `/slow?seconds=S`: answers after S seconds;
- `/hop`: an answer with hop-by-hop headers among end-to-end ones;
- `/cut`: promises 1 MiB and breaks off after a few bytes.

Events let a test see streaming as it happens: `first_upload_chunk` is set when
the first chunk of a body arrives, and `/download?wait=1` sends its first chunk,
then waits for `client_has_first_chunk` before sending the rest.

`gate_decisions` reads back what the gate audited, for the tests to compare.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from tests.support import Setup
from tokenward.audit.models import AuditRecord
from tokenward.container import Container
from tokenward.web.asgi import Receive, Scope, Send

CHUNK = 64 * 1024
WAIT_SECONDS = 10.0


def download_chunks(size: int) -> Iterator[bytes]:
    """The bytes `/download?size=size` sends: a counter pattern, never all zeros."""
    block = bytes(range(256)) * (CHUNK // 256)
    sent = 0
    number = 0
    while sent < size:
        piece = (number.to_bytes(4, "big") + block)[: min(CHUNK, size - sent)]
        yield piece
        sent += len(piece)
        number += 1


@dataclass
class Received:
    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} arrived {len(values)} times: {values}"
        return values[0] if values else None


@dataclass
class EchoUpstream:
    """The ASGI app, and what it saw, for the test thread to inspect."""

    requests: list[Received] = field(default_factory=list)
    first_upload_chunk: threading.Event = field(default_factory=threading.Event)
    client_has_first_chunk: threading.Event = field(default_factory=threading.Event)
    endless_abandoned: threading.Event = field(default_factory=threading.Event)
    # Whether `/download?wait=1` heard from the client before sending the rest.
    download_was_streamed: bool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        received = Received(
            method=scope["method"],
            raw_path=scope["raw_path"].decode("latin-1"),
            query=scope["query_string"].decode("latin-1"),
            headers=[
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in scope["headers"]
            ],
        )
        self.requests.append(received)
        query = {key: values[0] for key, values in parse_qs(received.query).items()}
        path = scope["path"]
        if path == "/download":
            await self._download(send, query)
        elif path == "/endless":
            await self._endless(receive, send)
        elif path == "/slow":
            await asyncio.sleep(float(query["seconds"]))
            await _json(send, 200, {"slow": True})
        elif path == "/hop":
            await _hop(send)
        elif path == "/cut":
            await send(_start(200, [(b"content-length", b"1048576")]))
            await send(
                {"type": "http.response.body", "body": b"x" * 10, "more_body": True}
            )
            raise ConnectionAbortedError("the test upstream breaks off on purpose")
        else:
            await self._echo(received, receive, send)

    async def _echo(self, received: Received, receive: Receive, send: Send) -> None:
        digest = hashlib.sha256()
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk:
                self.first_upload_chunk.set()
            digest.update(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        await _json(
            send,
            200,
            {
                "method": received.method,
                "raw_path": received.raw_path,
                "query": received.query,
                "headers": received.headers,
                "body_sha256": digest.hexdigest(),
                "body_size": size,
            },
        )

    async def _download(self, send: Send, query: dict[str, str]) -> None:
        size = int(query["size"])
        headers = [(b"content-type", b"application/octet-stream")]
        if query.get("chunked") != "1":
            headers.append((b"content-length", str(size).encode()))
        await send(_start(200, headers))
        for number, chunk in enumerate(download_chunks(size)):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if number == 0 and query.get("wait") == "1":
                self.download_was_streamed = await asyncio.to_thread(
                    self.client_has_first_chunk.wait, WAIT_SECONDS
                )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _endless(self, receive: Receive, send: Send) -> None:
        gone = asyncio.create_task(_until_disconnect(receive))
        await send(_start(200, [(b"content-type", b"application/octet-stream")]))
        while not gone.done():
            await send(
                {"type": "http.response.body", "body": b"e" * CHUNK, "more_body": True}
            )
            await asyncio.sleep(0.01)
        self.endless_abandoned.set()


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _hop(send: Send) -> None:
    await send(
        _start(
            200,
            [
                (b"content-type", b"text/plain"),
                (b"connection", b"keep-alive, X-Upstream-Hop"),
                (b"x-upstream-hop", b"connection-scoped"),
                (b"keep-alive", b"timeout=5"),
                (b"proxy-authenticate", b"Basic realm=upstream"),
                (b"x-end-to-end", b"kept"),
                (b"set-cookie", b"first=1; Path=/"),
                (b"set-cookie", b"second=2; Path=/"),
                (b"content-length", b"2"),
            ],
        )
    )
    await send({"type": "http.response.body", "body": b"ok"})


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


async def _json(send: Send, status: int, document: object) -> None:
    body = json.dumps(document).encode()
    await send(
        _start(
            status,
            [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        )
    )
    await send({"type": "http.response.body", "body": body})


def gate_decisions(setup: Setup) -> list[AuditRecord]:
    """The audit records of gate decisions, in chain order."""

    async def work(container: Container) -> list[AuditRecord]:
        async with container.db.read() as session:
            records = await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.event == "gate_decision")
                .order_by(AuditRecord.seq)
            )
            return list(records)

    return setup.run(work)
