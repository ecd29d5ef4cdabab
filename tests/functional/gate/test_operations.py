"""Operations (SPEC I5): liveness, readiness, metrics, request ids and JSON logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.functional.gate.serving import check, metric, serve_process, tampered
from tests.support import (
    LiveServer,
    Setup,
    capture_logs,
    find_leaks,
    start_server,
    token_fragments,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.container import Container
from tokenward.db import sync_url
from tokenward.migrations import head_revision
from tokenward.tokens.format import generate
from tokenward.web.app import create_app

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
WAIT_SECONDS = 10.0


@pytest.fixture
def now_setup(settings: Settings) -> Setup:
    """Setup on the real time, for servers in another process that read the system
    clock."""
    return Setup(settings, FrozenClock(dt.datetime.now(dt.UTC)))


@pytest.fixture
def behind_schema(settings: Settings) -> Iterator[None]:
    """The database claims an older schema revision for the test's duration."""
    engine = create_engine(sync_url(settings.resolved_database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"),
                {"head": head_revision()},
            )
        engine.dispose()


def test_livez_answers_while_the_process_runs(server: LiveServer) -> None:
    """/livez answers 200 with a JSON status and is never cached."""
    answer = httpx.get(f"{server.url}/livez")

    assert answer.status_code == 200
    assert answer.json() == {"status": "pass"}
    assert answer.headers["cache-control"] == "no-store"


def test_readyz_passes_when_database_schema_and_gate_are_up(
    server: LiveServer,
) -> None:
    """/readyz answers 200 with no problems when the instance can serve."""
    answer = httpx.get(f"{server.url}/readyz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "pass", "problems": []}


@pytest.mark.usefixtures("behind_schema")
def test_readyz_fails_when_the_schema_is_not_at_head(
    settings: Settings, clock: FrozenClock
) -> None:
    """/readyz answers 503 naming the schema and the upgrade command."""
    with start_server(settings, clock) as live:
        answer = httpx.get(f"{live.url}/readyz")

    assert answer.status_code == 503
    assert answer.json()["status"] == "fail"
    [problem] = answer.json()["problems"]
    assert "schema: at old" in problem
    assert "tokenward db upgrade" in problem


def test_readyz_fails_and_livez_passes_while_the_gate_is_not_running(
    settings: Settings, clock: FrozenClock
) -> None:
    """Before the gate has started, /readyz answers 503 and /livez still 200."""

    async def probe() -> tuple[httpx.Response, httpx.Response]:
        container = Container(settings, clock=clock)
        # No lifespan: the app is built but its gate never started.
        transport = httpx.ASGITransport(app=create_app(container))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tokenward"
            ) as client:
                return await client.get("/readyz"), await client.get("/livez")
        finally:
            await container.close()

    ready, live = asyncio.run(probe())

    assert ready.status_code == 503
    assert ready.json()["problems"] == ["gate: not running"]
    assert live.status_code == 200


def test_metrics_count_decisions_by_face_outcome_and_reason(
    server: LiveServer, setup: Setup
) -> None:
    """Each decision is counted under its face, outcome and reason, and timed."""
    token = setup.user("alice")

    assert check(server.url, token, face="nginx").status_code == 200
    assert check(server.url, token, face="nginx").status_code == 200
    assert check(server.url, tampered(token), face="nginx").status_code == 401
    assert check(server.url, token).status_code == 200
    page = httpx.get(f"{server.url}/metrics")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    decisions = "tokenward_gate_decisions_total"
    allowed = {"face": "nginx", "outcome": "allowed", "reason": "token_valid"}
    malformed = {"face": "nginx", "outcome": "denied", "reason": "malformed_token"}
    assert metric(page.text, decisions, allowed) == 2
    assert metric(page.text, decisions, malformed) == 1
    assert metric(page.text, decisions, {"face": "forward"}) == 1
    latency = "tokenward_gate_decision_seconds_count"
    assert metric(page.text, latency, {"face": "nginx"}) == 3
    assert metric(page.text, latency, {"face": "forward"}) == 1


def test_metrics_show_the_audit_writer_and_the_cache(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """The audit queue, batches and failures, and the cache size are on /metrics."""
    token = setup.user("alice")
    unknown = generate(settings.token_prefix)

    with start_server(settings, clock) as live:
        # On PostgreSQL the cache is cleared once when the change listener connects;
        # ask again until both answers are held (one token, one unknown digest).
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            assert check(live.url, token).status_code == 200
            assert check(live.url, unknown).status_code == 401
            page = httpx.get(f"{live.url}/metrics").text
            if metric(page, "tokenward_gate_cache_entries") == 2:
                break
            assert time.monotonic() < deadline, "the cache never held both answers"

    decisions = metric(page, "tokenward_gate_decisions_total", {"outcome": "allowed"})
    assert metric(page, "tokenward_audit_queue_depth") == 0
    assert metric(page, "tokenward_audit_failures_total") == 0
    # Every decision's record is in some batch, and no batch is empty.
    batched = metric(page, "tokenward_audit_batch_records_sum")
    assert batched >= 2 * decisions
    assert 1 <= metric(page, "tokenward_audit_batch_records_count") <= batched
    assert metric(page, "tokenward_audit_commit_seconds_count") >= 1
    assert metric(page, "process_resident_memory_bytes") > 0


def test_a_sane_request_id_is_kept_echoed_and_audited(
    server: LiveServer, setup: Setup
) -> None:
    """A client's well-formed X-Request-ID is answered back and stored in the audit."""
    token = setup.user("alice")

    answer = check(server.url, token, headers={"X-Request-ID": "edge-7f3a:42"})

    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "edge-7f3a:42"
    [record] = [r for r in setup.audit_trail() if r.event == "gate_decision"]
    assert record.request_id == "edge-7f3a:42"


@pytest.mark.parametrize(
    "sent",
    ["has spaces", "x" * 65, 'quote"and\\backslash', "caf\u00e9", ""],
)
def test_an_unsafe_request_id_is_replaced(
    server: LiveServer, setup: Setup, sent: str
) -> None:
    """A request id too long or with other characters is replaced by a new one."""
    token = setup.user("alice")

    answer = httpx.get(
        f"{server.url}/auth/nginx",
        headers=[
            (b"X-Original-Method", b"GET"),
            (b"X-Original-URI", b"/"),
            (b"Authorization", f"Bearer {token}".encode()),
            (b"X-Request-ID", sent.encode()),
        ],
    )

    echoed = answer.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(echoed)
    [record] = [r for r in setup.audit_trail() if r.event == "gate_decision"]
    assert record.request_id == echoed


def test_each_check_without_a_request_id_gets_its_own(
    server: LiveServer, setup: Setup
) -> None:
    """Without X-Request-ID, each answer carries a new id, also on refusals."""
    token = setup.user("alice")

    first = check(server.url, token).headers["x-request-id"]
    second = check(server.url, None, uri="/x?access_token=" + token)

    assert GENERATED_ID.fullmatch(first)
    assert second.status_code == 401
    assert GENERATED_ID.fullmatch(second.headers["x-request-id"])
    assert second.headers["x-request-id"] != first


def test_the_rest_api_echoes_and_audits_the_request_id(
    server: LiveServer, setup: Setup
) -> None:
    """The REST API answers with the request id and records the same one."""
    token = setup.user("alice")

    with server.client(token) as api:
        created = api.post(
            "/tokens", json={"label": "ci"}, headers={"X-Request-ID": "rest-1"}
        )
        made_up = api.get("/me", headers={"X-Request-ID": "no good"})

    assert created.headers["x-request-id"] == "rest-1"
    assert GENERATED_ID.fullmatch(made_up.headers["x-request-id"])
    records = [r for r in setup.audit_trail() if r.event == "token_created"]
    assert records[-1].request_id == "rest-1"


def test_rest_api_log_lines_carry_the_request_id_and_no_query(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """Lines logged while the REST API serves a request name its request id, and
    the access line leaves out the query string."""
    token = setup.user("alice")
    loud = settings.model_copy(update={"log_format": "json"})

    with (
        capture_logs(loud) as logs,
        start_server(loud, clock, own_logging=True) as live,
        live.client(token) as api,
    ):
        api.get("/me", params={"note": "private"}, headers={"X-Request-ID": "r-9"})

    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line]
    access = [line for line in lines if line.get("logger") == "uvicorn.access"]
    [me] = [line for line in access if "/api/v1/me" in line["event"]]
    assert me["request_id"] == "r-9"
    # The test's own HTTP client logs the URL it asked for; the server must not.
    served = [line for line in lines if line.get("logger") != "httpx"]
    assert "private" not in json.dumps(served)


def test_tokenward_serve_logs_each_refusal_as_one_json_line(
    settings: Settings, now_setup: Setup, tmp_path: Path
) -> None:
    """`tokenward serve` writes a gate_decision JSON line per refusal, with every
    field, and no token, Authorization value or query string anywhere."""
    token = now_setup.user("alice")
    read_only = now_setup.token("alice", label="ro", scope="read-only")

    with serve_process(settings, tmp_path) as served:
        allowed = check(served.url, token)
        refused = check(
            served.url,
            read_only,
            method="POST",
            uri="/rest/api/2/issue?access_token=" + token,
            headers={"X-Request-ID": "log-1", "X-Forwarded-For": "192.0.2.1"},
        )
        status = served.stop()
    logged = served.log_lines()

    assert allowed.status_code == 200
    assert refused.status_code == 401
    assert status == 0
    events = [json.loads(line) for line in logged]
    decisions = [event for event in events if event["event"] == "gate_decision"]
    # Allowed decisions are at debug unless configured: only the refusal is here.
    [denial] = decisions
    assert denial == {
        "event": "gate_decision",
        "level": "info",
        "logger": "tokenward.gate",
        "timestamp": denial["timestamp"],
        "face": "forward",
        "outcome": "denied",
        "reason": "token_in_url",
        "token_id": None,
        "user": None,
        "client_ip": "127.0.0.1",
        "method": "POST",
        "path": "/rest/api/2/issue",
        "status": 401,
        "duration_ms": denial["duration_ms"],
        "request_id": "log-1",
    }
    assert denial["duration_ms"] >= 0
    assert dt.datetime.fromisoformat(denial["timestamp"]).tzinfo is not None
    forbidden = token_fragments("token", token) | token_fragments("ro", read_only)
    assert find_leaks(forbidden, {"the log": "\n".join(logged)}) == []
    assert "access_token" not in "\n".join(logged)


def test_allowed_decisions_are_logged_when_configured(
    settings: Settings, now_setup: Setup, tmp_path: Path
) -> None:
    """With log_allowed_decisions, each allowed decision is an info line with the
    token id and the user."""
    now_setup.user("alice")
    issued = now_setup.issue("alice", label="ci")
    token = issued.secret
    loud = settings.model_copy(update={"log_allowed_decisions": True})

    with serve_process(loud, tmp_path) as served:
        allowed = check(served.url, token, uri="/browse/X-1?focusedId=3")
        served.stop()

    assert allowed.status_code == 200
    events = [json.loads(line) for line in served.log_lines()]
    [decision] = [event for event in events if event["event"] == "gate_decision"]
    assert decision["level"] == "info"
    assert decision["outcome"] == "allowed"
    assert decision["reason"] == "token_valid"
    assert decision["user"] == "alice"
    assert decision["token_id"] == issued.token.id
    assert decision["path"] == "/browse/X-1"
    assert decision["request_id"] == allowed.headers["x-request-id"]
