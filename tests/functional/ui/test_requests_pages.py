"""Token requests in the web UI: ask, withdraw, approve (narrowed) or reject,
generate; over real HTTP (SPEC P7, I1)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.functional.ui.browser import WebClient
from tests.support import LiveServer, Setup
from tokenward.policies.permissions import Permission

_SECRET = re.compile(r'<code id="secret" class="secret">([^<]+)</code>')
_REQUEST_ID = re.compile(r'action="/requests/([0-9a-f]{16})/cancel"')


@pytest.fixture
def people(server: LiveServer, setup: Setup) -> Iterator[tuple[WebClient, WebClient]]:
    """Alice, who may hold tokens but not create them, and a token manager; both
    signed in."""
    setup.user("alice")
    setup.user("manager", groups=("managers",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["managers"])
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["managers"])
    with WebClient(server.url) as alice, WebClient(server.url) as manager:
        alice.sign_in("alice", setup.password("alice"))
        manager.sign_in("manager", setup.password("manager"))
        yield alice, manager


def ask(alice: WebClient, **fields: str) -> str:
    """Send a request from alice's page; returns its id."""
    alice.get("/requests/mine")
    form = {"label": "reporting", "reason": "weekly report", "scope": "read-write"}
    answer = alice.post("/requests/mine", {**form, "days": "30", **fields})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/requests/mine?done=requested"
    found = _REQUEST_ID.search(alice.get("/requests/mine").text)
    assert found is not None

    return found.group(1)


def test_request_approve_narrowed_then_generate(
    server: LiveServer, people: tuple[WebClient, WebClient]
) -> None:
    """A manager approves a request narrowed to read-only and fewer days; alice
    generates the token once, sees its secret, and it works."""
    alice, manager = people
    request_id = ask(alice)
    queue = manager.get("/requests/queue")
    assert "weekly report" in queue.text

    approved = manager.post(
        f"/requests/{request_id}/approve",
        {"scope": "read-only", "days": "7", "networks": "", "reason": "read is enough"},
    )
    mine = alice.get("/requests/mine")
    generated = alice.post(f"/requests/{request_id}/token")
    again = alice.post(f"/requests/{request_id}/token")

    assert approved.headers["location"] == "/requests/queue?done=approved"
    assert "approved" in mine.text
    assert "read-only, 7 days" in mine.text
    assert "Generate the token" in mine.text
    secret = _SECRET.search(generated.text)
    assert secret is not None
    assert generated.headers["cache-control"] == "no-store"
    assert server.accepts(secret.group(1))
    assert again.status_code == 422
    assert "fulfilled" in again.text
    assert secret.group(1) not in alice.get("/requests/mine").text


def test_reject_needs_a_reason_and_tells_it(
    people: tuple[WebClient, WebClient],
) -> None:
    """Rejecting without a reason is refused on the queue page; with one, the
    request is rejected and alice reads why."""
    alice, manager = people
    request_id = ask(alice)
    manager.get("/requests/queue")

    bare = manager.post(f"/requests/{request_id}/reject", {"reason": "  "})
    rejected = manager.post(
        f"/requests/{request_id}/reject", {"reason": "use the shared bot"}
    )
    mine = alice.get("/requests/mine")

    assert bare.status_code == 422
    assert re.search(r'id="reason-error"[^>]*>[^<]*reason is required', bare.text)
    assert rejected.headers["location"] == "/requests/queue?done=rejected"
    assert '<span class="status rejected">rejected</span>' in mine.text
    assert "use the shared bot" in mine.text
    assert "weekly report" not in manager.get("/requests/queue").text


def test_an_approval_cannot_widen_and_keeps_what_was_typed(
    people: tuple[WebClient, WebClient],
) -> None:
    """An approval for more days than asked is refused next to the field, with
    the values typed, and the request stays pending."""
    alice, manager = people
    request_id = ask(alice, days="10")
    manager.get("/requests/queue")

    refused = manager.post(
        f"/requests/{request_id}/approve",
        {"days": "90", "networks": "10.0.0.0/8", "reason": "fine"},
    )

    assert refused.status_code == 422
    assert re.search(r'id="days-error"[^>]*>[^<]*shorten the lifetime', refused.text)
    assert 'value="90"' in refused.text
    assert "10.0.0.0/8</textarea>" in refused.text
    assert (
        '<span class="status pending">pending</span>'
        in alice.get("/requests/mine").text
    )


def test_cancel_withdraws_a_pending_request(
    people: tuple[WebClient, WebClient],
) -> None:
    """Alice withdraws her request; it leaves the queue and cannot be approved."""
    alice, manager = people
    request_id = ask(alice)

    cancelled = alice.post(f"/requests/{request_id}/cancel")
    mine = alice.get(cancelled.headers["location"])
    late = manager.post(f"/requests/{request_id}/approve", {})

    assert cancelled.headers["location"] == "/requests/mine?done=cancelled"
    assert "The request is withdrawn." in mine.text
    assert '<span class="status cancelled">cancelled</span>' in mine.text
    assert "Withdraw</button>" not in mine.text
    assert late.status_code == 422
    assert "cancelled" in late.text


def test_bad_request_input_is_shown_with_what_was_typed(
    people: tuple[WebClient, WebClient],
) -> None:
    """A request with a bad range or no reason comes back with the error next to
    the field and everything typed; nothing is sent."""
    alice, _ = people
    alice.get("/requests/mine")

    bad_range = alice.post(
        "/requests/mine",
        {
            "label": "nightly <sync>",
            "reason": "sync job",
            "scope": "read-only",
            "days": "30",
            "networks": "10.0.0.300/8",
        },
    )
    no_reason = alice.post(
        "/requests/mine", {"label": "nightly", "reason": "", "days": "30"}
    )

    assert bad_range.status_code == 422
    assert re.search(r'id="networks-error"[^>]*>[^<]*10.0.0.300/8', bad_range.text)
    assert 'value="nightly &lt;sync&gt;"' in bad_range.text
    assert "sync job</textarea>" in bad_range.text
    assert '<option value="read-only" selected>' in bad_range.text
    assert no_reason.status_code == 422
    assert re.search(r'id="reason-error"[^>]*>[^<]*reason is required', no_reason.text)
    assert "You have asked for no token yet." in alice.get("/requests/mine").text


def test_the_queue_needs_manage_tokens(
    setup: Setup, people: tuple[WebClient, WebClient]
) -> None:
    """Alice cannot see the queue, nor decide her own request there."""
    alice, _ = people
    request_id = ask(alice)

    queue = alice.get("/requests/queue")
    approve = alice.post(f"/requests/{request_id}/approve", {})

    assert queue.status_code == 403
    assert approve.status_code == 403
    assert "pending" in alice.get("/requests/mine").text
