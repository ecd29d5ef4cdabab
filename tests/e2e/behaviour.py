"""What every documented proxy configuration must do, checked through the proxy.

`ProxyBehaviour` holds the tests; tests/e2e/test_nginx.py and test_caddy.py run
them against Debian's nginx and Caddy by providing the `launch` fixture, which
starts the proxy with the configuration from docs/deploy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from tests.e2e.checks import (
    FORGED_ADDRESS,
    IDENTITY,
    SPOOFED,
    aliased,
    assert_no_token_upstream,
    assert_refused,
    audit_of,
    basic,
    bearer,
    identity,
)
from tests.e2e.deployment import (
    CLIENT_ADDRESS,
    FAILURE_LIMIT,
    PROXY_ADDRESS,
    Deployment,
    Launcher,
)
from tests.e2e.upstream import EchoUpstream
from tests.support import LiveServer, Setup, free_port
from tokenward.clock import FrozenClock
from tokenward.tokens.attributes import Scope
from tokenward.tokens.format import generate


class ProxyBehaviour:
    """The checks every documented proxy configuration must pass."""

    def test_bearer_token_is_allowed_and_the_upstream_learns_who(
        self, deployment: Deployment
    ) -> None:
        """A Bearer token passes; the upstream gets identity headers, not the token."""
        token = deployment.setup.user("alice", groups=("developers", "jira-users"))
        issued = deployment.setup.issue("alice", label="ci")

        answer = deployment.call(
            "GET", "/rest/api/2/issue/TW-1?expand=names", authorization=bearer(token)
        )
        second = deployment.call("GET", "/", authorization=bearer(issued.secret))

        assert answer.status_code == 200, answer.headers
        received = deployment.upstream.received[0]
        assert received.method == "GET"
        assert received.target == "/rest/api/2/issue/TW-1?expand=names"
        assert received.header("X-Tokenward-User") == "alice"
        groups = received.header("X-Tokenward-Groups") or ""
        assert sorted(groups.split(",")) == ["developers", "jira-users"]
        assert received.header("X-Tokenward-Scope") == "read-write"
        assert received.header("Authorization") is None
        assert second.status_code == 200
        assert deployment.upstream.last().header("X-Tokenward-Token-Id") == (
            issued.token.id
        )
        for seen in deployment.upstream.received:
            assert_no_token_upstream(seen, token, issued.secret)

    def test_basic_token_is_allowed_like_a_bearer_token(
        self, deployment: Deployment
    ) -> None:
        """Basic with the owner's name and a token passes; the token stays behind."""
        token = deployment.setup.user("bob")

        answer = deployment.call(
            "GET",
            "/scm/proj/repo.git/info/refs?service=git-upload-pack",
            authorization=basic("bob", token),
        )

        assert answer.status_code == 200, answer.headers
        received = deployment.upstream.last()
        assert received.header("X-Tokenward-User") == "bob"
        assert received.header("Authorization") is None
        assert_no_token_upstream(received, token)

    def test_a_write_arrives_whole(self, deployment: Deployment) -> None:
        """A POST with a body reaches the upstream with its method and body intact."""
        token = deployment.setup.user("carol")
        body = b'{"fields": {"summary": "' + b"x" * 100_000 + b'"}}'

        answer = deployment.call(
            "POST",
            "/rest/api/2/issue",
            authorization=bearer(token),
            content=body,
            headers={"Content-Type": "application/json"},
        )

        assert answer.status_code == 200, answer.headers
        received = deployment.upstream.last()
        assert received.method == "POST"
        assert received.body == body

    def test_token_only_path_refuses_a_request_without_credentials(
        self, deployment: Deployment
    ) -> None:
        """Without credentials a token-only path is 401; other paths pass through."""
        deployment.policy(token_only_paths=["/rest/**"])

        refused = deployment.call("GET", "/rest/api/2/myself")
        session = deployment.call("GET", "/secure/Dashboard.jspa")

        assert_refused(refused, 401, "token_required")
        assert session.status_code == 200
        assert deployment.upstream.count() == 1
        assert identity(deployment.upstream.last()) == dict.fromkeys(IDENTITY)

    def test_malformed_credentials_are_refused(self, deployment: Deployment) -> None:
        """An unreadable Authorization header and a mistyped token answer 401."""
        token = deployment.setup.user("dave")
        mistyped = token[:-1] + ("a" if token[-1] != "a" else "b")

        unreadable = deployment.call("GET", "/", authorization="Token abc")
        corrupted = deployment.call("GET", "/", authorization=bearer(mistyped))

        assert_refused(unreadable, 401, "malformed_credentials")
        assert_refused(corrupted, 401, "malformed_token")
        assert deployment.upstream.count() == 0

    def test_unknown_token_is_refused(self, deployment: Deployment) -> None:
        """A well-formed token that was never issued answers 401."""
        answer = deployment.call("GET", "/", authorization=bearer(generate("tw")))

        assert_refused(answer, 401, "unknown_token")
        assert deployment.upstream.count() == 0

    def test_revoked_token_is_refused_at_once(self, deployment: Deployment) -> None:
        """A token revoked through the API is refused on its next use."""
        deployment.setup.user("erin")
        issued = deployment.setup.issue("erin", label="script")
        before = deployment.call("GET", "/", authorization=bearer(issued.secret))

        with deployment.gate.client(issued.secret) as api:
            revoked = api.post(f"/tokens/{issued.token.id}/revoke")
        after = deployment.call("GET", "/", authorization=bearer(issued.secret))

        assert before.status_code == 200
        assert revoked.status_code == 200, revoked.text
        assert_refused(after, 401, "token_revoked")
        assert deployment.upstream.count() == 1

    def test_expired_token_is_refused(
        self, deployment: Deployment, clock: FrozenClock
    ) -> None:
        """A token whose time has come answers 401, even while cached."""
        deployment.setup.user("frank")
        issued = deployment.setup.issue(
            "frank", label="short", expires_at=clock.now() + dt.timedelta(hours=1)
        )
        before = deployment.call("GET", "/", authorization=bearer(issued.secret))

        clock.advance(dt.timedelta(hours=2))
        after = deployment.call("GET", "/", authorization=bearer(issued.secret))

        assert before.status_code == 200
        assert_refused(after, 401, "token_expired")

    def test_read_only_token_reads_but_cannot_write(
        self, deployment: Deployment
    ) -> None:
        """A read-only token may GET and search with POST; a write is 403."""
        deployment.setup.user("grace")
        issued = deployment.setup.issue("grace", label="ro", scope=Scope.READ_ONLY)
        authorization = bearer(issued.secret)

        read = deployment.call(
            "GET", "/rest/api/2/issue/TW-1", authorization=authorization
        )
        search = deployment.call(
            "POST", "/rest/api/2/search", authorization=authorization, json={"jql": ""}
        )
        write = deployment.call(
            "POST", "/rest/api/2/issue", authorization=authorization, json={}
        )
        disguised = deployment.call(
            "POST", "/rest/api/2/./x/../issue", authorization=authorization, json={}
        )

        assert read.status_code == 200
        assert search.status_code == 200
        assert deployment.upstream.last().header("X-Tokenward-Scope") == "read-only"
        assert_refused(write, 403, "read_only_scope")
        assert_refused(disguised, 403, "read_only_scope")
        assert deployment.upstream.count() == 2

    def test_address_outside_the_allowed_networks_is_refused(
        self, deployment: Deployment
    ) -> None:
        """Outside the global ranges a token is 403, whatever the client claims."""
        token = deployment.setup.user("heidi")
        # The proxy's address stays allowed, for the administrator's API calls.
        deployment.policy(allowed_networks=["10.0.0.0/8", f"{PROXY_ADDRESS}/32"])

        answer = deployment.call(
            "GET",
            "/",
            authorization=bearer(token),
            headers={
                "X-Forwarded-For": "10.1.2.3",
                "Forwarded": "for=10.1.2.3",
                "X-Real-IP": "10.1.2.3",
            },
        )
        deployment.policy(
            allowed_networks=[f"{CLIENT_ADDRESS}/32", f"{PROXY_ADDRESS}/32"]
        )
        allowed = deployment.call("GET", "/", authorization=bearer(token))

        assert_refused(answer, 403, "network_not_allowed")
        assert allowed.status_code == 200
        assert deployment.upstream.count() == 1

    def test_forged_forwarding_headers_do_not_change_the_client_address(
        self, deployment: Deployment
    ) -> None:
        """The audit records the client's real address, not one it wrote itself."""
        deployment.setup.user("ivan")
        issued = deployment.setup.issue("ivan", label="audit")

        answer = deployment.call(
            "GET",
            "/",
            authorization=bearer(issued.secret),
            headers={
                "X-Forwarded-For": FORGED_ADDRESS,
                "Forwarded": f"for={FORGED_ADDRESS}",
                "X-Real-IP": FORGED_ADDRESS,
            },
        )

        assert answer.status_code == 200
        [record] = audit_of(deployment.setup, issued.token.id)
        assert record.client_ip == CLIENT_ADDRESS
        assert record.outcome == "allowed"

    def test_password_is_refused_when_the_policy_denies_passwords(
        self, deployment: Deployment
    ) -> None:
        """With passwords denied, a Basic password login is 401."""
        deployment.setup.user("judy")
        deployment.policy(passwords="deny")

        answer = deployment.call(
            "GET", "/rest/api/2/myself", authorization=basic("judy", "correct horse")
        )

        assert_refused(answer, 401, "password_denied")
        assert deployment.upstream.count() == 0

    def test_password_passes_through_when_allowed(self, deployment: Deployment) -> None:
        """An allowed password login reaches the upstream as the client sent it."""
        credentials = basic("mallory", "correct horse")

        answer = deployment.call(
            "GET",
            "/rest/api/2/myself",
            authorization=credentials,
            headers={"X-Tokenward-User": "admin"},
        )

        assert answer.status_code == 200, answer.headers
        received = deployment.upstream.last()
        assert received.header("Authorization") == credentials
        assert identity(received) == dict.fromkeys(IDENTITY)

    def test_forged_identity_headers_never_reach_the_upstream(
        self, deployment: Deployment
    ) -> None:
        """Identity headers a client sends are replaced with a token, gone without."""
        token = deployment.setup.user("kim")

        with_token = deployment.call(
            "GET", "/", authorization=bearer(token), headers=SPOOFED
        )
        as_token = deployment.upstream.last()
        without = deployment.call("GET", "/", headers=SPOOFED)
        anonymous = deployment.upstream.last()

        assert with_token.status_code == 200
        assert as_token.header("X-Tokenward-User") == "kim"
        assert as_token.header("X-Tokenward-Groups") in ("", None)
        assert as_token.header("X-Tokenward-Token-Id") != "tk_forged"
        assert as_token.header("Authorization") is None
        assert as_token.header("X-Tokenward-Authorization") is None
        assert without.status_code == 200
        assert identity(anonymous) == dict.fromkeys(IDENTITY)
        assert anonymous.header("Authorization") is None
        assert anonymous.header("X-Tokenward-Authorization") is None

    def test_aliases_of_identity_headers_never_reach_the_upstream(
        self, deployment: Deployment
    ) -> None:
        """X_Tokenward_User and the like, which CGI and WSGI servers read as
        X-Tokenward-User, do not pass either."""
        token = deployment.setup.user("lena")
        aliases = {
            "X_Tokenward_User": "admin",
            "X.Tokenward.User": "admin",
            "X-Tokenward_User": "admin",
            "x_tokenward_groups": "administrators",
        }

        with_token = deployment.call(
            "GET", "/", authorization=bearer(token), headers=aliases
        )
        as_token = deployment.upstream.last()
        without = deployment.call("GET", "/", headers=aliases)
        anonymous = deployment.upstream.last()

        assert with_token.status_code == 200
        assert without.status_code == 200
        found = aliased(as_token)
        assert set(found) <= {name.lower() for name in IDENTITY}, found
        assert found["x-tokenward-user"] == ["lena"]
        assert "administrators" not in found.get("x-tokenward-groups", [])
        assert aliased(anonymous) == {}

    def test_repeated_failures_are_throttled_with_retry_after(
        self, deployment: Deployment
    ) -> None:
        """After too many failures a client gets 429 with Retry-After; a known
        token of its owner still passes."""
        token = deployment.setup.user("liam")
        known = deployment.call("GET", "/", authorization=bearer(token))
        for _ in range(FAILURE_LIMIT):
            failed = deployment.call("GET", "/", authorization=bearer(generate("tw")))
            assert_refused(failed, 401, "unknown_token")

        throttled = deployment.call("GET", "/", authorization=bearer(generate("tw")))
        owner = deployment.call("GET", "/", authorization=bearer(token))

        assert known.status_code == 200
        assert_refused(throttled, 429, "throttled")
        assert int(throttled.headers["Retry-After"]) > 0
        assert owner.status_code == 200
        assert deployment.upstream.count() == 2

    def test_injected_credential_replaces_the_token(
        self,
        launch: Launcher,
        injecting_gate: LiveServer,
        upstream: EchoUpstream,
        setup: Setup,
        tmp_path: Path,
    ) -> None:
        """With credential injection the upstream gets the owner's stored
        credential instead of the token, and a user without one is refused."""
        token = setup.user("alice")
        other = setup.user("bob")
        with injecting_gate.client(token) as api:
            saved = api.put(
                "/me/upstream-credential",
                json={"scheme": "bearer", "value": "jira-pat-of-alice"},
            )
        address = injecting_gate.url.removeprefix("http://")

        with launch(tmp_path / "proxy", gate=address, upstream=upstream.address) as url:
            deployment = Deployment(url, injecting_gate, upstream, setup)
            allowed = deployment.call(
                "GET",
                "/rest/api/2/myself",
                authorization=bearer(token),
                headers=SPOOFED,
            )
            received = upstream.last()
            refused = deployment.call("GET", "/", authorization=bearer(other))

        assert saved.status_code == 200, saved.text
        assert allowed.status_code == 200, allowed.headers
        assert received.header("Authorization") == "Bearer jira-pat-of-alice"
        assert identity(received) == dict.fromkeys(IDENTITY)
        assert_no_token_upstream(received, token)
        assert_refused(refused, 403, "upstream_credential_missing")
        assert upstream.last() is received

    def test_unreachable_gate_refuses(
        self, launch: Launcher, upstream: EchoUpstream, tmp_path: Path
    ) -> None:
        """With tokenward unreachable the proxy refuses; the upstream sees nothing."""
        nowhere = f"127.0.0.1:{free_port()}"
        running = launch(tmp_path / "proxy", gate=nowhere, upstream=upstream.address)

        with running as url, httpx.Client(base_url=url, timeout=10) as client:
            answers = [
                client.get("/", headers={"Authorization": bearer(generate("tw"))}),
                client.get("/"),
            ]

        for answer in answers:
            assert answer.status_code in self.unreachable_statuses, answer
        assert upstream.count() == 0

    unreachable_statuses: tuple[int, ...] = (503,)
