"""A stand-in for the protected API: it answers every request with what it got.

It runs Python's own HTTP server in a thread, speaks HTTP/1.1 with keep-alive (as
the proxies in front expect of an upstream), and keeps each request it received,
so a test can tell both what reached the upstream and whether anything did.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the upstream saw it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        """Every value of the header `name`, in the order received."""
        wanted = name.lower()

        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        """The header `name` if it came exactly once, None if it did not come."""
        values = self.values(name)
        if len(values) > 1:
            raise AssertionError(f"{name} reached the upstream {len(values)} times")

        return values[0] if values else None


@dataclass
class EchoUpstream:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def last(self) -> Received:
        """The latest request; fails if none came."""
        with self._lock:
            if not self.received:
                raise AssertionError("no request reached the upstream")
            return self.received[-1]

    def count(self) -> int:
        with self._lock:
            return len(self.received)


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    upstream: EchoUpstream


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _EchoServer

    def _answer(self) -> None:
        received = Received(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self._body(),
        )
        self.server.upstream.record(received)
        body = json.dumps(
            {
                "method": received.method,
                "target": received.target,
                "headers": received.headers,
                "body_length": len(received.body),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # http.server dispatches on these names.
    do_GET = do_HEAD = do_POST = _answer  # noqa: N815
    do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)

        return self.rfile.read(length) if length else b""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what was received, not a log."""


@contextmanager
def run_upstream() -> Iterator[EchoUpstream]:
    """An echoing upstream on a free loopback port, stopped afterwards."""
    upstream = EchoUpstream()
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    server.upstream = upstream
    upstream.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
