"""The listeners of one process: which ones run, that they share one gate, and how
their sockets are set up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Setup, serve_asgi, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.demo import create_demo_app
from tokenward.errors import ConfigurationError
from tokenward.web.listeners import Listener, Listeners, bind


@pytest.fixture
def demo_url() -> Iterator[str]:
    with serve_asgi(create_demo_app()) as url:
        yield url


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_accepted_connections_have_nagle_turned_off(host: str) -> None:
    """Connections accepted on a listener's socket send at once (TCP_NODELAY), so
    an answer written in parts does not wait for the client's delayed ACK."""

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                peer = transport.get_extra_info("socket")
                accepted.set_result(
                    peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                )
                transport.close()

        sock = bind(Listener("api", host, 0))
        port = sock.getsockname()[1]
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(host, port)
            result = await asyncio.wait_for(accepted, timeout=10)
            writer.close()

        return result

    assert asyncio.run(accepted_nodelay()) != 0


def test_a_taken_address_is_a_configuration_error() -> None:
    """Binding a port in use fails with a message naming listener and address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigurationError, match=f"proxy listener.*:{port}"):
            bind(Listener("proxy", "127.0.0.1", port))


def test_two_listeners_on_one_port_is_a_configuration_error() -> None:
    """The API and the proxy configured on one port: the second fails at bind,
    before anything serves, although both sockets allow address reuse."""
    first = bind(Listener("api", "127.0.0.1", 0))
    port = first.getsockname()[1]
    try:
        with pytest.raises(ConfigurationError, match=f"proxy listener.*:{port}"):
            bind(Listener("proxy", "127.0.0.1", port))
    finally:
        first.close()


def test_without_an_upstream_only_the_api_listens(
    settings: Settings, clock: FrozenClock
) -> None:
    """No gate_upstream_url: one listener, tokenward's own, and no proxy."""

    async def build() -> Listeners:
        container = Container(settings, clock=clock)
        try:
            return Listeners(container)
        finally:
            await container.close()

    listeners = asyncio.run(build())

    assert listeners.proxy is None
    assert [listener.name for listener in listeners.listeners] == ["api"]


def test_both_listeners_share_one_gate(
    settings: Settings, clock: FrozenClock, setup: Setup, demo_url: str
) -> None:
    """A decision made on the proxy listener shows in the API listener's metrics,
    next to one made by forward auth: one runtime serves both."""
    token = setup.user("alice")
    bearer = {"Authorization": f"Bearer {token}"}

    with start_proxy(settings, clock, demo_url) as live:
        proxied = httpx.get(f"{live.url}/rest/api/2/myself", headers=bearer)
        checked = httpx.get(
            f"{live.api_url}/auth/nginx",
            headers={**bearer, "X-Original-Method": "GET", "X-Original-URI": "/"},
        )
        page = httpx.get(f"{live.api_url}/metrics").text
        running = live.listeners.runtime.running
    stopped = live.listeners.runtime.running

    assert (proxied.status_code, checked.status_code) == (200, 200)
    faces = {
        sample.labels["face"]
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == "tokenward_gate_decisions_total"
    }
    assert faces == {"proxy", "nginx"}
    assert running
    assert not stopped
