"""docs/deploy/envoy.yaml, short of running Envoy, which has no Debian or PyPI
package (SPEC G7).

The file is checked against Envoy's own API schema (the protobuf definitions from
xds-protos), and tokenward's real answers on /auth/envoy are run through what the
file tells Envoy's HTTP ext_authz filter to do with them. That filter's rules, as
Envoy's source has them (ext_authz_http_impl.cc, ext_authz.cc): only a 200
allows; a 5xx or no answer is an error, answered with `status_on_error`; on a 200
the headers matching `allowed_upstream_headers` are set on the request, then those
named in `x-envoy-auth-headers-to-remove` are removed; on a refusal the client gets
the status and the headers matching `allowed_client_headers` plus WWW-Authenticate.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.checks import FORGED_ADDRESS, SPOOFED, audit_of, basic, bearer
from tests.e2e.deployment import CLIENT_ADDRESS, FAILURE_LIMIT
from tests.e2e.proxies import DEPLOY
from tests.support import LiveServer, Setup, free_port
from tokenward.tokens.attributes import Scope
from tokenward.tokens.format import generate

yaml = pytest.importorskip("yaml", reason="needs PyYAML (pip install pyyaml)")
json_format = pytest.importorskip(
    "google.protobuf.json_format", reason="needs xds-protos (pip install xds-protos)"
)
bootstrap_pb2 = pytest.importorskip(
    "envoy.config.bootstrap.v3.bootstrap_pb2",
    reason="needs xds-protos (pip install xds-protos)",
)
connection_manager_pb2 = pytest.importorskip(
    "envoy.extensions.filters.network.http_connection_manager.v3."
    "http_connection_manager_pb2"
)
ext_authz_pb2 = pytest.importorskip(
    "envoy.extensions.filters.http.ext_authz.v3.ext_authz_pb2"
)
pytest.importorskip("envoy.extensions.filters.http.router.v3.router_pb2")

ENVOY_CONFIG = DEPLOY / "envoy.yaml"
# What Envoy always passes to an HTTP authorization service.
ALWAYS_SENT = frozenset({"authorization", "host"})
ALWAYS_TO_CLIENT = frozenset({"www-authenticate", "location"})
REMOVE_HEADER = "x-envoy-auth-headers-to-remove"


def _bootstrap() -> Any:
    """docs/deploy/envoy.yaml parsed by Envoy's schema: unknown fields, wrong
    types and unknown enum values fail here as they would in Envoy."""
    document = yaml.safe_load(ENVOY_CONFIG.read_text())

    return json_format.ParseDict(document, bootstrap_pb2.Bootstrap())


@dataclass(frozen=True)
class ExtAuthz:
    """The parts of the documented configuration that decide what Envoy does."""

    connection_manager: Any
    filter: Any

    @classmethod
    def documented(cls) -> ExtAuthz:
        [listener] = _bootstrap().static_resources.listeners
        [chain] = listener.filter_chains
        [network_filter] = chain.filters
        manager = connection_manager_pb2.HttpConnectionManager()
        assert network_filter.typed_config.Unpack(manager)
        first = manager.http_filters[0]
        assert first.name == "envoy.filters.http.ext_authz"
        authz = ext_authz_pb2.ExtAuthz()
        assert first.typed_config.Unpack(authz)

        return cls(manager, authz)

    def _patterns(self, matcher: Any) -> frozenset[str]:
        names = set()
        for pattern in matcher.patterns:
            assert pattern.WhichOneof("match_pattern") == "exact", pattern
            names.add(pattern.exact)

        return frozenset(names)

    @property
    def sent(self) -> frozenset[str]:
        return ALWAYS_SENT | self._patterns(self.filter.allowed_headers)

    @property
    def removed_by_route(self) -> frozenset[str]:
        [host] = self.connection_manager.route_config.virtual_hosts
        return frozenset(name.lower() for name in host.request_headers_to_remove)

    @property
    def drops_underscores(self) -> bool:
        options = self.connection_manager.common_http_protocol_options
        action = options.DESCRIPTOR.fields_by_name["headers_with_underscores_action"]
        value = action.enum_type.values_by_number[
            options.headers_with_underscores_action
        ]

        return bool(value.name == "DROP_HEADER")

    @property
    def to_upstream(self) -> frozenset[str]:
        response = self.filter.http_service.authorization_response
        return self._patterns(response.allowed_upstream_headers)

    @property
    def to_client(self) -> frozenset[str]:
        response = self.filter.http_service.authorization_response
        return ALWAYS_TO_CLIENT | self._patterns(response.allowed_client_headers)


@dataclass
class Outcome:
    """What Envoy does with one request: forward it with `upstream` headers, or
    answer the client with `status` and `client` headers."""

    status: int
    upstream: dict[str, str] | None
    client: dict[str, str]


@dataclass
class EnvoyModel:
    """Envoy's ext_authz HTTP filter as configured by docs/deploy/envoy.yaml,
    asking a real tokenward."""

    config: ExtAuthz
    gate: str
    peer: str = CLIENT_ADDRESS

    def handle(self, method: str, path: str, headers: Mapping[str, str]) -> Outcome:
        request = {name.lower(): value for name, value in headers.items()}
        if self.config.drops_underscores:
            request = {k: v for k, v in request.items() if "_" not in k}
        if self.config.connection_manager.use_remote_address:
            forwarded = request.get("x-forwarded-for")
            request["x-forwarded-for"] = (
                f"{forwarded}, {self.peer}" if forwarded else self.peer
            )
        sent = {name: value for name, value in request.items() if name in self.sent}
        service = self.config.filter.http_service
        try:
            answer = httpx.request(
                method,
                f"http://{self.gate}{service.path_prefix}{path}",
                headers=sent,
                timeout=service.server_uri.timeout.ToTimedelta().total_seconds(),
            )
        except httpx.TransportError:
            return self._error()
        if answer.status_code >= 500:
            return self._error()
        if answer.status_code != 200:
            client = {
                name: value
                for name, value in answer.headers.items()
                if name in self.config.to_client
            }
            return Outcome(answer.status_code, None, client)

        return Outcome(200, self._allowed(request, answer.headers), {})

    @property
    def sent(self) -> frozenset[str]:
        return self.config.sent

    def _allowed(
        self, request: dict[str, str], answer: httpx.Headers
    ) -> dict[str, str]:
        upstream = dict(request)
        for name, value in answer.items():
            if name in self.config.to_upstream:
                upstream[name] = value
        for name in answer.get(REMOVE_HEADER, "").split(","):
            upstream.pop(name.strip().lower(), None)
        # The router, after every filter, applies the route's own removals.
        for name in self.config.removed_by_route:
            upstream.pop(name, None)

        return upstream

    def _error(self) -> Outcome:
        if self.config.filter.failure_mode_allow:
            raise AssertionError("the documented configuration must fail closed")
        status = self.config.filter.status_on_error.code or 403

        return Outcome(status, None, {})


@pytest.fixture
def envoy(gate: LiveServer) -> EnvoyModel:
    """The documented Envoy filter in front of a live tokenward."""
    return EnvoyModel(ExtAuthz.documented(), gate.url.removeprefix("http://"))


def test_the_configuration_is_valid_for_envoy() -> None:
    """envoy.yaml parses under Envoy's schema, fails closed, and asks /auth/envoy."""
    config = ExtAuthz.documented()

    assert config.filter.http_service.path_prefix == "/auth/envoy"
    assert config.filter.failure_mode_allow is False
    assert config.filter.status_on_error.code == 503
    assert config.connection_manager.use_remote_address
    assert config.connection_manager.xff_num_trusted_hops == 0
    assert "forwarded" not in config.sent
    assert "authorization" in config.to_upstream


def test_a_token_becomes_identity_headers_and_never_reaches_the_upstream(
    envoy: EnvoyModel, setup: Setup
) -> None:
    """A token passes; the upstream gets tokenward's identity headers, not the
    token and not the client's forged ones."""
    token = setup.user("alice", groups=("developers",))

    outcome = envoy.handle(
        "POST", "/rest/api/2/issue", {"Authorization": bearer(token), **SPOOFED}
    )

    assert outcome.status == 200
    assert outcome.upstream is not None
    assert outcome.upstream["x-tokenward-user"] == "alice"
    assert outcome.upstream["x-tokenward-groups"] == "developers"
    assert outcome.upstream["x-tokenward-token-id"] != SPOOFED["X-Tokenward-Token-Id"]
    assert "authorization" not in outcome.upstream
    assert all(token not in value for value in outcome.upstream.values())


def test_aliases_of_identity_headers_are_dropped(
    envoy: EnvoyModel, setup: Setup
) -> None:
    """X_Tokenward_User, which CGI and WSGI servers read as X-Tokenward-User,
    does not reach the upstream."""
    token = setup.user("erin")

    outcome = envoy.handle(
        "GET",
        "/",
        {"Authorization": bearer(token), "X_Tokenward_User": "admin"},
    )

    assert outcome.upstream is not None
    assert "x_tokenward_user" not in outcome.upstream
    assert outcome.upstream["x-tokenward-user"] == "erin"


def test_without_credentials_forged_identity_is_removed(
    envoy: EnvoyModel, setup: Setup
) -> None:
    """A request without credentials passes on without any identity header."""
    outcome = envoy.handle("GET", "/secure/Dashboard.jspa", SPOOFED)

    assert outcome.status == 200
    assert outcome.upstream is not None
    for name in ("user", "groups", "token-id", "scope"):
        assert f"x-tokenward-{name}" not in outcome.upstream


def test_a_password_login_passes_through_when_allowed(envoy: EnvoyModel) -> None:
    """An allowed password login keeps its Authorization, without identity."""
    credentials = basic("mallory", "correct horse")

    outcome = envoy.handle(
        "GET", "/rest/api/2/myself", {"Authorization": credentials, **SPOOFED}
    )

    assert outcome.status == 200
    assert outcome.upstream is not None
    assert outcome.upstream["authorization"] == credentials
    assert "x-tokenward-user" not in outcome.upstream


def test_refusals_reach_the_client_with_their_reason(
    envoy: EnvoyModel, setup: Setup
) -> None:
    """401 with WWW-Authenticate, 403, and 429 with Retry-After go to the client."""
    setup.user("bob")
    read_only = setup.issue("bob", label="ro", scope=Scope.READ_ONLY)

    unknown = envoy.handle("GET", "/", {"Authorization": bearer(generate("tw"))})
    write = envoy.handle(
        "POST", "/rest/api/2/issue", {"Authorization": bearer(read_only.secret)}
    )
    for _ in range(FAILURE_LIMIT):
        envoy.handle("GET", "/", {"Authorization": bearer(generate("tw"))})
    throttled = envoy.handle("GET", "/", {"Authorization": bearer(generate("tw"))})

    assert unknown.status == 401
    assert unknown.client["x-tokenward-reason"] == "unknown_token"
    assert "Bearer" in unknown.client["www-authenticate"]
    assert write.status == 403
    assert write.client["x-tokenward-reason"] == "read_only_scope"
    assert throttled.status == 429
    assert int(throttled.client["retry-after"]) > 0


def test_forged_forwarding_headers_do_not_change_the_client_address(
    envoy: EnvoyModel, setup: Setup
) -> None:
    """Envoy appends the peer it sees; tokenward records that, not the forgery."""
    setup.user("carol")
    issued = setup.issue("carol", label="audit")

    outcome = envoy.handle(
        "GET",
        "/",
        {
            "Authorization": bearer(issued.secret),
            "X-Forwarded-For": FORGED_ADDRESS,
            "Forwarded": f"for={FORGED_ADDRESS}",
        },
    )

    assert outcome.status == 200
    [record] = audit_of(setup, issued.token.id)
    assert record.client_ip == CLIENT_ADDRESS


def test_an_unreachable_gate_is_a_refusal() -> None:
    """With tokenward unreachable, the documented Envoy answers 503."""
    nowhere = EnvoyModel(ExtAuthz.documented(), f"127.0.0.1:{free_port()}")

    outcome = nowhere.handle("GET", "/", {"Authorization": basic("a", "b")})

    assert outcome.status == 503
    assert outcome.upstream is None


def test_basic_credentials_hide_the_token_too(envoy: EnvoyModel, setup: Setup) -> None:
    """A token sent as the Basic password does not reach the upstream either."""
    token = setup.user("dave")
    encoded = base64.b64encode(f"dave:{token}".encode()).decode()

    outcome = envoy.handle("GET", "/", {"Authorization": f"Basic {encoded}"})

    assert outcome.status == 200
    assert outcome.upstream is not None
    assert "authorization" not in outcome.upstream
    assert outcome.upstream["x-tokenward-user"] == "dave"


def test_an_injected_credential_replaces_the_token(
    injecting_gate: LiveServer, setup: Setup
) -> None:
    """With credential injection Envoy sends the stored credential upstream, and
    refuses a user without one."""
    token = setup.user("frank")
    other = setup.user("grace")
    with injecting_gate.client(token) as api:
        saved = api.put(
            "/me/upstream-credential",
            json={"scheme": "bearer", "value": "jira-pat-of-frank"},
        )
    envoy = EnvoyModel(
        ExtAuthz.documented(), injecting_gate.url.removeprefix("http://")
    )

    allowed = envoy.handle("GET", "/", {"Authorization": bearer(token), **SPOOFED})
    refused = envoy.handle("GET", "/", {"Authorization": bearer(other)})

    assert saved.status_code == 200, saved.text
    assert allowed.upstream is not None
    assert allowed.upstream["authorization"] == "Bearer jira-pat-of-frank"
    assert not [name for name in allowed.upstream if name.startswith("x-tokenward")]
    assert refused.status == 403
    assert refused.client["x-tokenward-reason"] == "upstream_credential_missing"
