"""The reverse proxy's bodies and upstream failures: uploads and downloads of any
size streamed both ways, a client that goes away, an upstream that is down, slow,
breaks off, or speaks TLS."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.functional.gate.proxy_upstream import (
    CHUNK,
    WAIT_SECONDS,
    EchoUpstream,
    download_chunks,
)
from tests.support import LiveProxy, Setup, free_port, serve_asgi, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings

BIG = 20 * 1024 * 1024  # 20 MiB


@pytest.fixture
def echo() -> Iterator[tuple[EchoUpstream, str]]:
    upstream = EchoUpstream()
    with serve_asgi(upstream) as url:
        yield upstream, url


@pytest.fixture
def proxy(
    settings: Settings, clock: FrozenClock, echo: tuple[EchoUpstream, str]
) -> Iterator[LiveProxy]:
    with start_proxy(settings, clock, echo[1]) as live:
        yield live


@pytest.fixture
def bearer(setup: Setup) -> dict[str, str]:
    return {"Authorization": f"Bearer {setup.user('alice')}"}


def generated_upload(size: int) -> Iterator[bytes]:
    """`size` bytes that are not all alike, made as they are sent."""
    sent = 0
    number = 0
    while sent < size:
        piece = hashlib.sha256(number.to_bytes(8, "big")).digest() * (CHUNK // 32)
        piece = piece[: size - sent]
        yield piece
        sent += len(piece)
        number += 1


def test_a_large_upload_arrives_intact(
    proxy: LiveProxy, bearer: dict[str, str]
) -> None:
    """A 20 MiB streamed upload reaches the upstream byte for byte."""
    expected = hashlib.sha256()
    for piece in generated_upload(BIG):
        expected.update(piece)

    answer = httpx.put(
        f"{proxy.url}/upload", content=generated_upload(BIG), headers=bearer, timeout=60
    )

    assert answer.status_code == 200
    assert answer.json()["body_size"] == BIG
    assert answer.json()["body_sha256"] == expected.hexdigest()


def test_a_sized_upload_keeps_its_content_length(
    proxy: LiveProxy, bearer: dict[str, str]
) -> None:
    """An upload with Content-Length is forwarded with that length, not chunked."""
    body = b"x" * 300_000

    answer = httpx.post(f"{proxy.url}/upload", content=body, headers=bearer)

    headers = dict(answer.json()["headers"])
    assert headers["content-length"] == "300000"
    assert "transfer-encoding" not in headers
    assert answer.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_an_upload_is_forwarded_before_it_has_all_arrived(
    proxy: LiveProxy, echo: tuple[EchoUpstream, str], bearer: dict[str, str]
) -> None:
    """The upstream receives the first chunk while the client still holds the rest:
    the proxy does not gather whole uploads."""
    upstream, _ = echo

    def body() -> Iterator[bytes]:
        yield b"a" * CHUNK
        if not upstream.first_upload_chunk.wait(WAIT_SECONDS):
            raise AssertionError("the upstream saw nothing before the upload ended")
        yield b"b" * CHUNK

    answer = httpx.post(f"{proxy.url}/upload", content=body(), headers=bearer)

    assert answer.status_code == 200
    assert answer.json()["body_size"] == 2 * CHUNK


def test_expect_100_continue_is_answered_by_the_proxy(
    proxy: LiveProxy, bearer: dict[str, str]
) -> None:
    """Expect is not passed on; the body still arrives whole."""
    answer = httpx.post(
        f"{proxy.url}/upload",
        content=b"payload",
        headers={**bearer, "Expect": "100-continue"},
    )

    assert answer.status_code == 200
    assert "expect" not in dict(answer.json()["headers"])
    assert answer.json()["body_size"] == len(b"payload")


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_a_large_download_arrives_intact(
    proxy: LiveProxy, bearer: dict[str, str], chunked: bool
) -> None:
    """A 20 MiB answer, with or without Content-Length, reaches the client whole."""
    expected = hashlib.sha256()
    for piece in download_chunks(BIG):
        expected.update(piece)
    received = hashlib.sha256()
    size = 0
    query = {"size": str(BIG), "chunked": "1" if chunked else "0"}

    with httpx.stream(
        "GET", f"{proxy.url}/download", params=query, headers=bearer, timeout=60
    ) as answer:
        assert answer.status_code == 200
        assert ("content-length" in answer.headers) is not chunked
        for piece in answer.iter_raw():
            received.update(piece)
            size += len(piece)

    assert size == BIG
    assert received.hexdigest() == expected.hexdigest()


def test_a_download_is_sent_on_before_it_has_all_arrived(
    proxy: LiveProxy, echo: tuple[EchoUpstream, str], bearer: dict[str, str]
) -> None:
    """The client receives the first chunk while the upstream still holds the rest."""
    upstream, _ = echo
    query = {"size": str(4 * CHUNK), "wait": "1"}

    with httpx.stream(
        "GET", f"{proxy.url}/download", params=query, headers=bearer, timeout=30
    ) as answer:
        pieces = answer.iter_raw()
        first = next(pieces)
        upstream.client_has_first_chunk.set()
        rest = b"".join(pieces)

    assert len(first) + len(rest) == 4 * CHUNK
    assert upstream.download_was_streamed is True


def test_a_client_that_goes_away_stops_the_upstream_answer(
    proxy: LiveProxy, echo: tuple[EchoUpstream, str], bearer: dict[str, str]
) -> None:
    """When the client hangs up mid-download, the proxy hangs up on the upstream."""
    upstream, _ = echo

    with httpx.stream("GET", f"{proxy.url}/endless", headers=bearer) as answer:
        pieces = answer.iter_raw()
        for _ in range(3):
            next(pieces)

    assert upstream.endless_abandoned.wait(WAIT_SECONDS)


def test_an_upstream_that_is_down_gives_502(
    settings: Settings, clock: FrozenClock, bearer: dict[str, str]
) -> None:
    """Nothing listening upstream: 502 with the proxy's own code, as JSON."""
    with start_proxy(settings, clock, f"http://127.0.0.1:{free_port()}") as live:
        answer = httpx.get(f"{live.url}/x", headers=bearer)

    assert answer.status_code == 502
    assert answer.headers["x-tokenward-reason"] == "upstream_unavailable"
    assert answer.json()["error"]["code"] == "upstream_unavailable"


def test_an_upstream_slower_than_the_read_timeout_gives_504(
    settings: Settings,
    clock: FrozenClock,
    echo: tuple[EchoUpstream, str],
    bearer: dict[str, str],
) -> None:
    """An upstream that keeps the answer past gate_upstream_read_timeout: 504."""
    _, url = echo
    impatient = {"gate_upstream_read_timeout": 0.2}

    with start_proxy(settings, clock, url, **impatient) as live:
        answer = httpx.get(
            f"{live.url}/slow", params={"seconds": "3"}, headers=bearer, timeout=30
        )

    assert answer.status_code == 504
    assert answer.headers["x-tokenward-reason"] == "upstream_timeout"
    assert answer.json()["error"]["code"] == "upstream_timeout"


def test_an_upstream_that_breaks_off_gives_a_cut_answer(
    proxy: LiveProxy, bearer: dict[str, str]
) -> None:
    """Once the answer has started, an upstream failure cuts the client's
    connection: the client sees an incomplete answer, never a complete one."""
    with httpx.stream("GET", f"{proxy.url}/cut", headers=bearer) as answer:
        status = answer.status_code
        with pytest.raises(httpx.RemoteProtocolError):
            answer.read()

    assert status == 200


def test_a_refused_upload_never_reaches_the_upstream(
    proxy: LiveProxy, echo: tuple[EchoUpstream, str]
) -> None:
    """A refused request's body is not forwarded."""
    upstream, _ = echo

    answer = httpx.post(
        f"{proxy.url}/upload",
        content=b"x" * 100_000,
        headers={"Authorization": "Bearer nope"},
    )

    assert answer.status_code == 401
    assert upstream.requests == []


def _certificate_pair(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 that it signed: (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenward test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "upstream")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    return paths


def test_an_https_upstream_is_verified_against_the_configured_ca(
    settings: Settings,
    clock: FrozenClock,
    bearer: dict[str, str],
    tmp_path: Path,
) -> None:
    """With gate_upstream_ca_file the upstream's certificate is trusted; without
    it, an unknown CA fails the connection (502), never an unverified one."""
    ca, certificate, key = _certificate_pair(tmp_path)
    tls = {"ssl_certfile": str(certificate), "ssl_keyfile": str(key)}

    with serve_asgi(EchoUpstream(), **tls) as url:
        with start_proxy(settings, clock, url, gate_upstream_ca_file=ca) as live:
            trusted = httpx.get(f"{live.url}/x", headers=bearer)
        with start_proxy(settings, clock, url) as live:
            untrusted = httpx.get(f"{live.url}/x", headers=bearer)

    assert url.startswith("https://")
    assert trusted.status_code == 200
    assert trusted.json()["raw_path"] == "/x"
    assert untrusted.status_code == 502
    assert untrusted.headers["x-tokenward-reason"] == "upstream_unavailable"


def test_a_client_that_goes_away_mid_upload_is_let_go_quietly(
    proxy: LiveProxy,
    echo: tuple[EchoUpstream, str],
    bearer: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An upload cut short by the client ends the upstream request too, with no
    error from the proxy, and the next request is served as usual."""
    upstream, _ = echo
    host, port = proxy.url.removeprefix("http://").split(":")
    head = (
        "POST /upload HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: {bearer['Authorization']}\r\n"
        "Content-Length: 10485760\r\n\r\n"
    )

    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + b"x" * CHUNK)
        assert upstream.first_upload_chunk.wait(WAIT_SECONDS)
    after = httpx.get(f"{proxy.url}/x", headers=bearer)

    assert after.status_code == 200
    assert [r.raw_path for r in upstream.requests] == ["/upload", "/x"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
