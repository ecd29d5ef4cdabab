"""The Token Manager pages: find, sort and page through tokens, revoke after a
confirmation, create for a user; over real HTTP (SPEC T5, I1)."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.ui.browser import WebClient
from tests.support import OPERATOR, ORIGIN, LiveServer, Setup, start_server
from tokenward.audit.events import AuditEvent
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.policies.permissions import Permission
from tokenward.tokens.queries import TokenFilter

_SECRET = re.compile(r'<code id="secret" class="secret">([^<]+)</code>')
_PICKED = re.compile(r'name="token_id" value="([0-9a-f]{16})"')
_LABEL = re.compile(r'<td>([^<]+)<br><span class="muted">[0-9a-f]{16}</span></td>')
_OWNER = re.compile(r'<td><input id="pick-[0-9a-f]{16}"[^>]*></td>\s*<td>([^<]+)</td>')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


@pytest.fixture
def manager(server: LiveServer, setup: Setup) -> Iterator[WebClient]:
    """A token manager signed in to the web UI."""
    setup.user("manager", groups=("managers",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["managers"])
    with WebClient(server.url) as web:
        web.sign_in("manager", setup.password("manager"))
        yield web


def labels(page: httpx.Response) -> list[str]:
    """The labels of the result rows, in page order."""
    return [html.unescape(label) for label in _LABEL.findall(page.text)]


def issue_many(setup: Setup, owners: list[str], count: int) -> None:
    """`count` tokens labelled "bulk 0000" onwards, dealt out to `owners` in turn."""
    setup.many_tokens(owners, count)


def all_labels(setup: Setup) -> set[str]:
    tokens, _ = setup.run(lambda c: c.tokens.search(OPERATOR, TokenFilter(limit=500)))

    return {token.label for token in tokens}


def test_a_user_without_manage_tokens_is_refused(
    server: LiveServer, setup: Setup
) -> None:
    """Without manage_tokens every Token Manager page answers 403 and changes
    nothing."""
    setup.user("alice")
    kept = setup.issue("alice", label="kept")
    with WebClient(server.url) as web:
        web.sign_in("alice", setup.password("alice"))
        answers = [
            web.get("/manage"),
            web.get("/manage/new"),
            web.get(f"/manage/revoke?token_id={kept.token.id}"),
            web.post("/manage/revoke/confirm", {"token_id": kept.token.id}),
            web.post("/manage/new", {"owner": "alice", "label": "sneaky"}),
        ]

    assert [answer.status_code for answer in answers] == [403] * 5
    assert "manage_tokens" in answers[0].text
    assert server.accepts(kept.secret)
    assert "sneaky" not in all_labels(setup)


def test_filters_by_users_label_and_status(setup: Setup, manager: WebClient) -> None:
    """Owners (comma or space separated), label text and status narrow the list."""
    for name in ("alice", "bob", "carol"):
        setup.user(name)
        setup.issue(name, label=f"{name} jira")
        setup.issue(name, label=f"{name} confluence")
    revoked = setup.issue("bob", label="bob old jira")
    setup.run(
        lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [revoked.token.id], managed=True)
    )

    two_users = manager.get("/manage", params={"users": "alice,  bob", "label": "JIRA"})
    spaced = manager.get("/manage", params={"users": "alice carol", "label": "conf"})
    revoked_only = manager.get("/manage", params={"status": "revoked"})
    active_jira = manager.get(
        "/manage", params={"users": "bob", "label": "jira", "status": "active"}
    )

    assert sorted(labels(two_users)) == ["alice jira", "bob jira", "bob old jira"]
    assert sorted(labels(spaced)) == ["alice confluence", "carol confluence"]
    assert labels(revoked_only) == ["bob old jira"]
    assert labels(active_jira) == ["bob jira"]
    # The form shows the search it answers, so it can be refined.
    assert 'value="alice,  bob"' in two_users.text
    assert '<option value="revoked" selected>' in revoked_only.text


def test_sorts_by_whitelisted_columns_in_both_directions(
    setup: Setup, manager: WebClient
) -> None:
    """Sorting by owner, label and expiry works both ways; a token that never
    expires counts as the latest expiry; an unknown column is refused."""
    setup.user("zoe")
    setup.user("adam")
    setup.issue("zoe", label="rank b", expires_in_days=20)
    setup.issue("adam", label="Rank C", never_expires=True)
    setup.issue("zoe", label="rank a", expires_in_days=10)

    def order(**params: str) -> list[str]:
        page = manager.get("/manage", params={"label": "rank", **params})
        assert page.status_code == 200, page.text
        return labels(page)

    assert order(sort="label", order="asc") == ["rank a", "rank b", "Rank C"]
    assert order(sort="label", order="desc") == ["Rank C", "rank b", "rank a"]
    assert order(sort="expires", order="asc") == ["rank a", "rank b", "Rank C"]
    assert order(sort="expires", order="desc") == ["Rank C", "rank b", "rank a"]
    assert order(sort="owner", order="asc")[0] == "Rank C"
    assert order(sort="owner", order="desc")[-1] == "Rank C"
    bad = manager.get("/manage", params={"sort": "digest"})
    assert bad.status_code == 422
    assert "choose a listed order" in bad.text


def pages_from(web: WebClient, path: str) -> list[httpx.Response]:
    """Every result page, following the "next" links from `path`."""
    pages = []
    while path:
        page = web.get(html.unescape(path))
        assert page.status_code == 200, page.text
        pages.append(page)
        found = _NEXT.search(page.text)
        path = found.group(1) if found else ""

    return pages


def test_pages_through_thousands_of_tokens(setup: Setup, manager: WebClient) -> None:
    """Next links keep the filters and the order, and the pages cover every match
    exactly once, also when every token has the same creation time (the id breaks
    the tie); one token is found among them all."""
    owners = ["alice", "bob", "carol", "dave"]
    for name in owners:
        setup.user(name)
    issue_many(setup, owners, 4000)

    by_label = pages_from(
        manager,
        "/manage?users=alice+bob+carol&label=bulk&sort=label&order=asc&limit=200",
    )
    by_creation = pages_from(manager, "/manage?users=alice,bob,carol&limit=500")
    needle = manager.get("/manage", params={"label": "bulk 0803"})

    expected = [f"bulk {n:04}" for n in range(4000) if owners[n % 4] != "dave"]
    assert [label for page in by_label for label in labels(page)] == expected
    assert len(by_label) == 15
    assert "3000 tokens, 2801" in by_label[-1].text
    ids = [token_id for page in by_creation for token_id in _PICKED.findall(page.text)]
    assert len(ids) == len(set(ids)) == 3003  # the bulk tokens and three setup ones
    assert labels(needle) == ["bulk 0803"]
    assert "dave" in needle.text


def test_filters_by_last_use(
    settings: Settings, clock: FrozenClock, setup: Setup, manager: WebClient
) -> None:
    """The never-used and not-used-since filters find idle tokens; used-since the
    others."""
    setup.user("alice")
    used = setup.issue("alice", label="used")
    setup.issue("alice", label="idle")
    # A gate of its own, whose shutdown writes the usage it gathered.
    with (
        start_server(settings, clock) as gate,
        httpx.Client(base_url=gate.url, timeout=10) as client,
    ):
        answer = client.get(
            "/auth/forward",
            headers={
                "Authorization": f"Bearer {used.secret}",
                "X-Forwarded-Method": "GET",
                "X-Forwarded-Uri": "/rest/api/2/myself",
            },
        )
    assert answer.status_code == 200, answer.text
    today = clock.now().date().isoformat()
    tomorrow = clock.now().date() + dt.timedelta(days=1)

    used_today = manager.get("/manage", params={"users": "alice", "used_since": today})
    never = manager.get("/manage", params={"users": "alice", "never_used": "on"})
    unused = manager.get("/manage", params={"users": "alice", "unused_since": today})
    unused_later = manager.get(
        "/manage", params={"users": "alice", "unused_since": tomorrow.isoformat()}
    )

    assert labels(used_today) == ["used"]
    assert "127.0.0.1" in used_today.text  # where it was last used from
    assert sorted(labels(never)) == ["alice-setup", "idle"]
    assert sorted(labels(unused)) == ["alice-setup", "idle"]
    assert sorted(labels(unused_later)) == ["alice-setup", "idle", "used"]


def test_revoking_many_asks_first_then_revokes_and_keeps_the_search(
    server: LiveServer, setup: Setup, manager: WebClient
) -> None:
    """Ticked tokens are shown for confirmation and still work; confirming
    revokes them all with the reason, and the list comes back with its filters."""
    setup.user("alice")
    setup.user("bob")
    first = setup.issue("alice", label="ci one")
    second = setup.issue("bob", label="ci two")
    spared = setup.issue("bob", label="ci three")
    listing = manager.get("/manage", params={"label": "ci", "sort": "label"})
    back = html.unescape(
        re.search(r'name="back" value="([^"]*)"', listing.text).group(1)  # type: ignore[union-attr]
    )

    asked = manager.post(
        "/manage/revoke",
        {
            "token_id": [first.token.id, second.token.id],
            "reason": "leaked",
            "back": back,
        },
    )

    assert asked.status_code == 200
    assert "Revoke 2 tokens?" in asked.text
    assert set(_PICKED.findall(asked.text)) == {first.token.id, second.token.id}
    assert 'value="leaked"' in asked.text
    assert server.accepts(first.secret)
    assert server.accepts(second.secret)

    confirmed = manager.post(
        "/manage/revoke/confirm",
        {
            "token_id": [first.token.id, second.token.id],
            "reason": "leaked",
            "back": back,
        },
    )
    after = manager.get(confirmed.headers["location"])

    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/manage?label=ci&sort=label&done=revoked"
    assert "The tokens are revoked" in after.text
    assert not server.accepts(first.secret)
    assert not server.accepts(second.secret)
    assert server.accepts(spared.secret)
    revocations = [
        (record.token_id, record.actor, record.details)
        for record in setup.audit_trail()
        if record.event == AuditEvent.TOKEN_REVOKED
    ]
    assert sorted(revocations) == sorted(
        [
            (first.token.id, "manager", {"reason": "leaked"}),
            (second.token.id, "manager", {"reason": "leaked"}),
        ]
    )


def test_revoking_one_from_its_row_asks_first(
    server: LiveServer, setup: Setup, manager: WebClient
) -> None:
    """A row's Revoke link leads to the same confirmation, for that token only."""
    setup.user("alice")
    target = setup.issue("alice", label="lonely")
    listing = manager.get("/manage", params={"users": "alice", "label": "lonely"})
    link = re.search(r'href="(/manage/revoke\?[^"]+)"', listing.text)
    assert link is not None

    asked = manager.get(html.unescape(link.group(1)))
    assert "Revoke 1 token?" in asked.text
    assert _PICKED.findall(asked.text) == [target.token.id]
    assert server.accepts(target.secret)

    confirmed = manager.post(
        "/manage/revoke/confirm", {"token_id": target.token.id, "back": "users=alice"}
    )

    assert confirmed.headers["location"] == "/manage?users=alice&done=revoked"
    assert not server.accepts(target.secret)


def test_revoking_with_nothing_ticked_keeps_the_search(
    setup: Setup, manager: WebClient
) -> None:
    """Asking to revoke with no box ticked re-shows the same search with an error."""
    setup.user("alice")
    setup.issue("alice", label="untouched")

    answer = manager.post("/manage/revoke", {"back": "users=alice&status=active"})

    assert answer.status_code == 422
    assert "tick at least one token" in answer.text
    assert sorted(labels(answer)) == ["alice-setup", "untouched"]
    assert 'value="alice"' in answer.text
    assert '<option value="active" selected>' in answer.text


def test_creating_for_a_user_shows_the_secret_once_and_it_works(
    server: LiveServer, setup: Setup, manager: WebClient
) -> None:
    """A manager creates a token for alice: the secret is on that answer only, the
    token is alice's and works on the API."""
    setup.user("alice")
    form = manager.get("/manage/new?owner=alice")
    assert 'id="owner" name="owner"' in form.text
    assert 'value="alice"' in form.text

    created = manager.post(
        "/manage/new",
        {
            "owner": "alice",
            "label": "deploy bot",
            "scope": "read-only",
            "days": "30",
            "networks": "127.0.0.0/8\n10.0.0.0/8",
            "headers": "X-Team: platform",
        },
    )
    secret = _SECRET.search(created.text)
    listing = manager.get("/manage", params={"users": "alice", "label": "deploy"})

    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    assert secret is not None
    assert "alice:" + secret.group(1) in created.text  # the Basic example
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=10) as api:
        me = api.get(
            "/me",
            headers={
                "Authorization": f"Bearer {secret.group(1)}",
                "X-Team": "platform",
            },
        )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"
    assert labels(listing) == ["deploy bot"]
    assert "read-only" in listing.text
    assert secret.group(1) not in listing.text


def test_bad_input_is_shown_with_what_was_typed(
    setup: Setup, manager: WebClient
) -> None:
    """A refused creation or search comes back with the error next to its field
    and every value as typed; nothing is created."""
    setup.user("alice")
    typed = {
        "owner": "alice",
        "label": "reports <weekly>",
        "scope": "read-only",
        "days": "30",
        "networks": "10.0.0.0/8\nnot-a-range",
        "headers": "X-Team: platform",
    }

    bad_range = manager.post("/manage/new", typed)
    no_user = manager.post("/manage/new", {**typed, "owner": "ghost", "networks": ""})
    bad_date = manager.get(
        "/manage", params={"users": "alice", "expires_before": "31/12/2026"}
    )

    assert bad_range.status_code == 422
    assert re.search(r'id="networks-error"[^>]*>[^<]*not-a-range', bad_range.text)
    assert "10.0.0.0/8\nnot-a-range</textarea>" in bad_range.text
    assert 'value="reports &lt;weekly&gt;"' in bad_range.text
    assert "X-Team: platform</textarea>" in bad_range.text
    assert '<option value="read-only" selected>' in bad_range.text
    assert no_user.status_code == 422
    assert re.search(r'id="owner-error"[^>]*>[^<]*ghost', no_user.text)
    assert bad_date.status_code == 422
    assert re.search(r'id="expires_before-error"[^>]*>[^<]*YYYY-MM-DD', bad_date.text)
    assert 'value="31/12/2026"' in bad_date.text
    assert "reports <weekly>" not in all_labels(setup)
