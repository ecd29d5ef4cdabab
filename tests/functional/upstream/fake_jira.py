"""A small HTTP server on loopback that answers authentication the way Jira Data
Center does, for checking upstream credentials against something real.

- `GET /rest/api/2/myself` needs a login: a known credential gets 200 with
  `X-AUSERNAME` and the user as JSON; anything else gets 401 with
  `X-Seraph-LoginReason: AUTHENTICATED_FAILED` and `X-AUSERNAME: anonymous`.
- `GET /rest/api/2/serverInfo` is readable anonymously: an unknown credential still
  gets 200, served to `anonymous`, with `X-Seraph-LoginReason: AUTHENTICATED_FAILED`
  (what Jira does, and why a 2xx alone proves nothing).
- `GET /plugins/servlet/applinks/whoami` answers the username as text/plain with
  no Atlassian headers (Bitbucket's way), and 401 to an unknown credential.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MYSELF = "/rest/api/2/myself"
SERVER_INFO = "/rest/api/2/serverInfo"
WHOAMI = "/plugins/servlet/applinks/whoami"


class FakeJira:
    """Credentials it accepts (full Authorization value → username), and the
    Authorization header of every request it received."""

    def __init__(self) -> None:
        self.accepted: dict[str, str] = {}
        self.seen: list[str | None] = []
        self.url = ""

    def accept(self, authorization: str, username: str) -> None:
        self.accepted[authorization] = username

    def forget(self, authorization: str) -> None:
        self.accepted.pop(authorization, None)

    def answer(
        self, path: str, authorization: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        self.seen.append(authorization)
        user = self.accepted.get(authorization or "")
        if path == WHOAMI:
            if user is None:
                return 401, {"Content-Type": "text/plain"}, b""
            return 200, {"Content-Type": "text/plain;charset=UTF-8"}, user.encode()
        if user is not None:
            headers = {"X-AUSERNAME": user, "X-Seraph-LoginReason": "OK"}
            return 200, headers, json.dumps({"name": user, "active": True}).encode()
        failed = {
            "X-AUSERNAME": "anonymous",
            "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
        }
        if path == SERVER_INFO:
            return 200, failed, json.dumps({"version": "10.3.0"}).encode()
        body = {"errorMessages": ["You are not authenticated."], "errors": {}}

        return 401, failed, json.dumps(body).encode()


def _handler(jira: FakeJira) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = jira.answer(
                self.path, self.headers.get("Authorization")
            )
            self.send_response(status)
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test's output is not the place for access logs."""

    return Handler


@contextmanager
def running_jira(tls: ssl.SSLContext | None = None) -> Iterator[FakeJira]:
    """A FakeJira served on a free loopback port until the block ends; over https
    with the server context `tls`, if given."""
    jira = FakeJira()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(jira))
    server.daemon_threads = True
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    jira.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jira
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
