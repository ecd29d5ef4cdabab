"""Debian's nginx with docs/deploy/nginx.conf in front of tokenward (SPEC G7)."""

from __future__ import annotations

import pytest

from tests.e2e.behaviour import ProxyBehaviour
from tests.e2e.checks import assert_refused, bearer
from tests.e2e.deployment import FAILURE_LIMIT, Deployment, Launcher
from tests.e2e.proxies import binary, run_nginx
from tokenward.tokens.format import generate

pytestmark = pytest.mark.skipif(
    binary("nginx") is None,
    reason="needs nginx with auth_request (Debian: apt-get install nginx)",
)


@pytest.fixture
def launch() -> Launcher:
    """Starts nginx with the documented configuration."""
    return run_nginx


class TestNginx(ProxyBehaviour):
    unreachable_statuses = (503,)

    def test_the_nginx_face_refuses_with_403_and_names_the_status(
        self, deployment: Deployment
    ) -> None:
        """/auth/nginx says 403 plus X-Tokenward-Status 429 where nginx's
        auth_request would turn a 429 into a 500, and nginx says 429 again."""
        for _ in range(FAILURE_LIMIT):
            deployment.call("GET", "/", authorization=bearer(generate("tw")))
        throttled_headers = {
            "X-Original-Method": "GET",
            "X-Original-URI": "/",
            "Authorization": bearer(generate("tw")),
        }

        with deployment.gate.client() as api:
            # The gate's own view, asked as nginx asks (peer 127.0.0.1, trusted).
            direct = api.get(
                f"{deployment.gate.url}/auth/nginx",
                headers={**throttled_headers, "X-Forwarded-For": "127.0.0.2"},
            )
        through = deployment.call("GET", "/", authorization=bearer(generate("tw")))

        assert direct.status_code == 403
        assert direct.headers["X-Tokenward-Status"] == "429"
        assert direct.headers["X-Tokenward-Reason"] == "throttled"
        assert int(direct.headers["Retry-After"]) > 0
        assert direct.content == b""
        assert_refused(through, 429, "throttled")
        assert "X-Tokenward-Status" not in through.headers
