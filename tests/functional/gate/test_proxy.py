"""The reverse proxy face (SPEC G7, G6): what passes to the upstream, what is
removed and added on the way, and what a refused client is told."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.functional.gate.proxy_upstream import EchoUpstream, gate_decisions
from tests.support import OPERATOR, ORIGIN, LiveProxy, Setup, serve_asgi, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.services import GatePolicyService
from tokenward.tokens.attributes import Scope
from tokenward.tokens.format import generate

IDENTITY = ("x-tokenward-user", "x-tokenward-groups", "x-tokenward-token-id")
SPOOFED = {
    "X-Tokenward-User": "mallory",
    "X-Tokenward-Groups": "administrators",
    "X-Tokenward-Token-Id": "0000000000000000",
    "X-Tokenward-Scope": "read-write",
    "X-Tokenward-Authorization": "Bearer stolen-upstream-credential",
}


@dataclass
class Front:
    """The proxy in front of the echo upstream, and the upstream's record."""

    proxy: LiveProxy
    upstream: EchoUpstream
    upstream_url: str

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.proxy.url, timeout=10, **kwargs)

    def echoed(self, answer: httpx.Response) -> dict[str, Any]:
        """The upstream's report of the request, from a proxied answer."""
        assert answer.status_code == 200, answer.text
        document: dict[str, Any] = answer.json()
        return document

    def headers_of(self, answer: httpx.Response) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, value in self.echoed(answer)["headers"]:
            found.setdefault(name, []).append(value)
        return found


@pytest.fixture
def echo() -> Iterator[tuple[EchoUpstream, str]]:
    upstream = EchoUpstream()
    with serve_asgi(upstream) as url:
        yield upstream, url


@pytest.fixture
def front(
    settings: Settings, clock: FrozenClock, echo: tuple[EchoUpstream, str]
) -> Iterator[Front]:
    """tokenward's two listeners, the proxy in front of the echo upstream."""
    upstream, url = echo
    with start_proxy(settings, clock, url) as proxy:
        yield Front(proxy, upstream, url)


def set_policy(setup: Setup, **fields: Any) -> None:
    """Replace the gate policy, as an administrator would."""
    document = GatePolicyDocument(**fields)
    setup.run(
        lambda c: GatePolicyService(c.db, c.clock).replace(OPERATOR, ORIGIN, document)
    )


def raw_get(
    url: str, target: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET `target` exactly as written (no client-side path clean-up)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", target, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def test_an_allowed_token_reaches_the_upstream_as_identity_without_the_token(
    front: Front, setup: Setup
) -> None:
    """The upstream sees who called (identity headers) and never the token itself."""
    token = setup.user("alice", groups=("developers", "jira-users"))

    with front.client() as client:
        answer = client.get(
            "/rest/api/2/issue/DEMO-1?expand=names",
            headers={"Authorization": f"Bearer {token}"},
        )

    echoed = front.echoed(answer)
    headers = front.headers_of(answer)
    assert echoed["raw_path"] == "/rest/api/2/issue/DEMO-1"
    assert echoed["query"] == "expand=names"
    assert headers["x-tokenward-user"] == ["alice"]
    assert headers["x-tokenward-groups"] == ["developers,jira-users"]
    assert headers["x-tokenward-scope"] == ["read-write"]
    assert len(headers["x-tokenward-token-id"][0]) == 16
    assert "authorization" not in headers
    assert token not in answer.text


def test_a_token_sent_as_basic_is_removed_too(front: Front, setup: Setup) -> None:
    """Basic owner:token is checked as a token and not passed on."""
    token = setup.user("alice")
    basic = base64.b64encode(f"alice:{token}".encode()).decode()

    with front.client() as client:
        answer = client.get("/x", headers={"Authorization": f"Basic {basic}"})

    headers = front.headers_of(answer)
    assert headers["x-tokenward-user"] == ["alice"]
    assert "authorization" not in headers


def test_an_allowed_password_login_passes_through_unchanged(
    front: Front, setup: Setup
) -> None:
    """With passwords allowed, the upstream receives the Basic credential as sent,
    and no identity headers: tokenward does not vouch for a password."""
    setup.user("bob")
    basic = "Basic " + base64.b64encode(b"bob:correct horse").decode()

    with front.client() as client:
        answer = client.get("/x", headers={"Authorization": basic, **SPOOFED})

    headers = front.headers_of(answer)
    assert headers["authorization"] == [basic]
    for name in (*IDENTITY, "x-tokenward-scope", "x-tokenward-authorization"):
        assert name not in headers


def test_spoofed_identity_headers_change_nothing(front: Front, setup: Setup) -> None:
    """Client copies of every identity header and X-Tokenward-Authorization are
    dropped, in any letter case, with underscores for hyphens, and however many
    times they are sent."""
    token = setup.user("alice")
    sent = [
        *SPOOFED.items(),
        ("x-tokenward-user", "root"),
        ("X-TOKENWARD-USER", "admin"),
        ("X_Tokenward_User", "cgi-admin"),
        ("x_tokenward_scope", "read-write"),
        ("Authorization", f"Bearer {token}"),
    ]

    with front.client() as client:
        answer = client.get("/x", headers=sent)

    headers = front.headers_of(answer)
    assert headers["x-tokenward-user"] == ["alice"]
    assert headers["x-tokenward-groups"] == [""]
    assert headers["x-tokenward-scope"] == ["read-write"]
    assert headers["x-tokenward-token-id"] != ["0000000000000000"]
    assert "x-tokenward-authorization" not in headers
    assert "x_tokenward_user" not in headers
    assert "x_tokenward_scope" not in headers
    assert "stolen-upstream-credential" not in answer.text


def test_an_anonymous_request_passes_without_any_identity(front: Front) -> None:
    """With no Authorization the request passes (G4) and spoofed identity does not."""
    with front.client() as client:
        answer = client.get("/browse/DEMO-1", headers=SPOOFED)

    headers = front.headers_of(answer)
    for name in (*IDENTITY, "x-tokenward-scope", "x-tokenward-authorization"):
        assert name not in headers


def test_forwarding_headers_from_a_client_are_replaced(
    front: Front, setup: Setup
) -> None:
    """X-Forwarded-*, Forwarded and X-Real-IP from an untrusted peer are not
    believed: the chain restarts at the real peer."""
    token = setup.user("alice")

    with front.client() as client:
        answer = client.get(
            "/x",
            headers={
                "Authorization": f"Bearer {token}",
                "X-Forwarded-For": "203.0.113.66",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
                "X-Real-IP": "203.0.113.66",
                "Forwarded": "for=203.0.113.66",
            },
        )

    headers = front.headers_of(answer)
    proxy_host = front.proxy.url.removeprefix("http://")
    assert headers["x-forwarded-for"] == ["127.0.0.1"]
    assert headers["x-real-ip"] == ["127.0.0.1"]
    assert headers["x-forwarded-proto"] == ["http"]
    assert headers["x-forwarded-host"] == [proxy_host]
    assert "forwarded" not in headers


def test_forwarding_headers_from_a_trusted_proxy_are_extended(
    settings: Settings,
    clock: FrozenClock,
    setup: Setup,
    echo: tuple[EchoUpstream, str],
) -> None:
    """Behind a trusted proxy, its chain is kept and extended, and the client
    address the gate used is the one it names."""
    upstream, url = echo
    token = setup.user("alice")
    trusted = {"gate_trusted_proxies": ["127.0.0.0/8"]}

    with start_proxy(settings, clock, url, **trusted) as proxy:
        answer = httpx.get(
            f"{proxy.url}/x",
            headers={
                "Authorization": f"Bearer {token}",
                "X-Forwarded-For": "198.51.100.7",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "jira.example.com",
                "Forwarded": "for=198.51.100.7;proto=https",
            },
        )

    front = Front(proxy, upstream, url)
    headers = front.headers_of(answer)
    assert headers["x-forwarded-for"] == ["198.51.100.7, 127.0.0.1"]
    assert headers["x-real-ip"] == ["198.51.100.7"]
    assert headers["x-forwarded-proto"] == ["https"]
    assert headers["x-forwarded-host"] == ["jira.example.com"]
    [forwarded] = headers["forwarded"]
    assert forwarded.startswith("for=198.51.100.7;proto=https, for=127.0.0.1;")
    [record] = gate_decisions(setup)
    assert record.client_ip == "198.51.100.7"


def test_hop_by_hop_request_headers_stop_at_the_proxy(
    front: Front, setup: Setup
) -> None:
    """Connection, the headers it names, Keep-Alive, TE, Proxy-Authorization and
    the like are removed; end-to-end headers pass."""
    token = setup.user("alice")

    with front.client() as client:
        answer = client.get(
            "/x",
            headers={
                "Authorization": f"Bearer {token}",
                "Connection": "keep-alive, X-Client-Hop",
                "X-Client-Hop": "connection-scoped",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Proxy-Authorization": "Basic c2VjcmV0OnNlY3JldA==",
                "Proxy-Connection": "keep-alive",
                "X-End-To-End": "kept",
                "Cookie": "JSESSIONID=abc",
            },
        )

    headers = front.headers_of(answer)
    for name in ("x-client-hop", "keep-alive", "te", "proxy-authorization"):
        assert name not in headers
    assert "proxy-connection" not in headers
    assert headers["x-end-to-end"] == ["kept"]
    assert headers["cookie"] == ["JSESSIONID=abc"]


def test_hop_by_hop_response_headers_stop_at_the_proxy(front: Front) -> None:
    """The upstream's hop-by-hop headers are removed; the rest, repeated
    Set-Cookie included, reach the client."""
    with front.client() as client:
        answer = client.get("/hop")

    assert answer.status_code == 200
    assert answer.text == "ok"
    assert "x-upstream-hop" not in answer.headers
    assert "keep-alive" not in answer.headers
    assert "proxy-authenticate" not in answer.headers
    assert answer.headers["x-end-to-end"] == "kept"
    assert answer.headers.get_list("set-cookie") == [
        "first=1; Path=/",
        "second=2; Path=/",
    ]


def test_the_upstream_gets_its_own_host_unless_told_to_keep_the_clients(
    settings: Settings,
    clock: FrozenClock,
    setup: Setup,
    echo: tuple[EchoUpstream, str],
) -> None:
    """Host is the upstream URL's by default, and the client's with
    gate_preserve_host; X-Forwarded-Host always carries the client's."""
    upstream, url = echo
    token = setup.user("alice")
    sent = {"Authorization": f"Bearer {token}", "Host": "jira.example.com"}

    with start_proxy(settings, clock, url) as proxy:
        default = Front(proxy, upstream, url).headers_of(
            httpx.get(f"{proxy.url}/x", headers=sent)
        )
    with start_proxy(settings, clock, url, gate_preserve_host=True) as proxy:
        kept = Front(proxy, upstream, url).headers_of(
            httpx.get(f"{proxy.url}/x", headers=sent)
        )

    assert default["host"] == [url.removeprefix("http://")]
    assert kept["host"] == ["jira.example.com"]
    assert (
        default["x-forwarded-host"] == kept["x-forwarded-host"] == ["jira.example.com"]
    )


def test_the_path_goes_upstream_as_sent_under_the_upstream_base_path(
    settings: Settings,
    clock: FrozenClock,
    echo: tuple[EchoUpstream, str],
) -> None:
    """The upstream URL's path prefixes the request's; encoded characters and
    matrix parameters are not rewritten."""
    _, url = echo

    with start_proxy(settings, clock, f"{url}/jira/") as proxy:
        status, _, body = raw_get(proxy.url, "/rest/api/2/a%2Fb;jsessionid=1?q=%41")

    assert status == 200
    echoed = json.loads(body)
    assert echoed["raw_path"] == "/jira/rest/api/2/a%2Fb;jsessionid=1"
    assert echoed["query"] == "q=%41"


@pytest.mark.parametrize(
    "target", ["/../etc/passwd", "/rest/%2e%2e/%2e%2e/admin", "/a/../../b"]
)
def test_a_path_climbing_above_the_root_is_refused(front: Front, target: str) -> None:
    """A path that cannot be normalised is refused with 400 and never forwarded."""
    status, headers, body = raw_get(front.proxy.url, target)

    assert status == 400
    assert headers["x-tokenward-reason"] == "invalid_request"
    assert json.loads(body)["error"]["code"] == "invalid_request"
    assert front.upstream.requests == []


def test_tokenward_paths_on_the_proxy_listener_belong_to_the_upstream(
    front: Front, setup: Setup
) -> None:
    """/api/v1, /auth and /livez on the proxy listener reach the upstream, not
    tokenward; tokenward's own API answers only on its listener."""
    token = setup.user("alice")
    bearer = {"Authorization": f"Bearer {token}"}

    with front.client(headers=bearer) as client:
        paths = ["/api/v1/me", "/auth/nginx", "/livez", "/api/v1/openapi.json"]
        reached = [front.echoed(client.get(path))["raw_path"] for path in paths]
    own = httpx.get(f"{front.proxy.api_url}/api/v1/me", headers=bearer)

    assert reached == paths
    assert own.status_code == 200
    assert own.json()["username"] == "alice"


def test_an_unknown_token_is_refused_with_401_a_challenge_and_a_json_body(
    front: Front,
) -> None:
    """The refusal names its reason in a header and a JSON body, and carries
    WWW-Authenticate; the upstream is not reached."""
    with front.client() as client:
        answer = client.get("/x", headers={"Authorization": "Bearer not-a-token"})

    assert answer.status_code == 401
    assert answer.headers["x-tokenward-reason"] == "malformed_token"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"]
    error = answer.json()["error"]
    assert error["code"] == "malformed_token"
    assert error["message"]
    assert front.upstream.requests == []


def test_a_read_only_token_may_read_but_not_write(front: Front, setup: Setup) -> None:
    """GET and Jira's POST search pass; another POST is refused with 403."""
    setup.user("alice")
    token = setup.token("alice", label="reporting", scope=Scope.READ_ONLY)
    bearer = {"Authorization": f"Bearer {token}"}

    with front.client(headers=bearer) as client:
        read = client.get("/rest/api/2/issue/DEMO-1")
        search = client.post("/rest/api/2/search", json={"jql": "project = DEMO"})
        write = client.post("/rest/api/2/issue", json={"fields": {}})

    assert read.status_code == 200
    assert search.status_code == 200
    assert front.headers_of(search)["x-tokenward-scope"] == ["read-only"]
    assert write.status_code == 403
    assert write.headers["x-tokenward-reason"] == "read_only_scope"
    assert "www-authenticate" not in write.headers
    assert write.json()["error"]["code"] == "read_only_scope"
    assert [r.raw_path for r in front.upstream.requests] == [
        "/rest/api/2/issue/DEMO-1",
        "/rest/api/2/search",
    ]


def test_a_password_login_is_refused_when_passwords_are_denied(
    settings: Settings,
    clock: FrozenClock,
    setup: Setup,
    echo: tuple[EchoUpstream, str],
) -> None:
    """With passwords denied, Basic user:password is refused with 401."""
    upstream, url = echo
    setup.user("bob")
    set_policy(setup, passwords="deny")
    basic = "Basic " + base64.b64encode(b"bob:hunter2").decode()

    with start_proxy(settings, clock, url) as proxy:
        answer = httpx.get(f"{proxy.url}/x", headers={"Authorization": basic})

    assert answer.status_code == 401
    assert answer.headers["x-tokenward-reason"] == "password_denied"
    assert answer.json()["error"]["code"] == "password_denied"
    assert upstream.requests == []


def test_repeated_failures_are_throttled_with_retry_after(
    settings: Settings,
    clock: FrozenClock,
    echo: tuple[EchoUpstream, str],
) -> None:
    """Past the failure limit a client address gets 429 with Retry-After."""
    _, url = echo
    # A new unknown token each time: one already refused is answered from the cache.
    unknown = [f"Bearer {generate(settings.token_prefix)}" for _ in range(3)]

    with start_proxy(settings, clock, url, gate_failure_limit=2) as proxy:
        answers = [
            httpx.get(f"{proxy.url}/x", headers={"Authorization": value})
            for value in unknown
        ]

    assert [a.status_code for a in answers[:2]] == [401, 401]
    throttled = answers[-1]
    assert throttled.status_code == 429
    assert throttled.headers["x-tokenward-reason"] == "throttled"
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["code"] == "throttled"


def test_a_token_in_the_query_is_refused(front: Front, setup: Setup) -> None:
    """A token in the URL is never accepted, even beside a valid header."""
    token = setup.user("alice")

    with front.client() as client:
        answer = client.get(
            "/x",
            params={"access_token": token},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert answer.status_code == 401
    assert answer.headers["x-tokenward-reason"] == "token_in_url"
    assert front.upstream.requests == []


def test_each_proxied_decision_is_audited_under_the_normalised_path(
    front: Front, setup: Setup
) -> None:
    """The audit record of a proxied request names the path the gate judged."""
    token = setup.user("alice")

    status, _, _ = raw_get(
        front.proxy.url,
        "//rest/api/2/./issue/../search",
        headers={"Authorization": f"Bearer {token}", "User-Agent": "audit-check/1"},
    )

    assert status == 200
    [record] = gate_decisions(setup)
    assert record.outcome == "allowed"
    assert record.path == "/rest/api/2/search"
    assert record.method == "GET"
    assert record.user_agent == "audit-check/1"


def test_a_websocket_upgrade_is_refused(front: Front) -> None:
    """WebSockets are not proxied: the handshake is refused with 403."""
    ws_url = front.proxy.url.replace("http://", "ws://") + "/socket"

    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, open_timeout=10).close()

    assert refused.value.response.status_code == 403
    assert front.upstream.requests == []


def test_cookies_set_by_the_upstream_are_not_kept_by_the_proxy(front: Front) -> None:
    """The proxy's shared connection pool keeps no cookies: one client's cookie is
    never sent on with another client's request."""
    with front.client() as first:
        first.get("/hop")
    with front.client() as second:
        answer = second.get("/x")

    assert "cookie" not in front.headers_of(answer)
    proxy = front.proxy.listeners.proxy
    assert proxy is not None
    assert proxy._client is not None
    assert list(proxy._client.cookies.jar) == []


def test_head_keeps_the_upstream_length_and_sends_no_body(front: Front) -> None:
    """A HEAD answer carries the upstream's Content-Length and no body."""
    with front.client() as client:
        answer = client.head("/hop")

    assert answer.status_code == 200
    assert answer.headers["content-length"] == "2"
    assert answer.content == b""
