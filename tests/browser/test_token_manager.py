"""Token managers at work in Chromium: a request approved and turned into a token,
and one token found among thousands and revoked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshots, Site, sign_in
from tests.support import Setup
from tokenward.policies.permissions import Permission


@contextmanager
def another_browser(browser: Browser, site: Site) -> Iterator[Page]:
    """A second person's browser: cookies of its own."""
    context = browser.new_context(
        base_url=site.ui, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def managers(setup: Setup) -> None:
    """mia manages tokens; creating one's own is kept to the group "creators", so
    carol must ask."""
    setup.user("mia", groups=("managers",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["managers"])
    setup.user("carol", groups=("staff",))
    setup.user("nobody-creates", groups=("creators",))
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["creators"])


def test_a_user_requests_a_token_and_a_manager_approves(
    browser: Browser, page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    managers(setup)
    sign_in(page, setup, "carol")
    page.get_by_role("link", name="Request one").click()
    page.get_by_label("Label").fill("weekly report")
    page.get_by_label("Scope").select_option("read-only")
    page.get_by_label("Lifetime in days").fill("60")
    page.get_by_label("What is it for?").fill("Exports the sprint report each Friday")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("main")).to_contain_text("weekly report")
    expect(page.locator("main")).to_contain_text("pending")
    screenshots.save(page, "request")

    with another_browser(browser, site) as manager:
        sign_in(manager, setup, "mia")
        manager.get_by_role("link", name="Requests queue").click()
        expect(manager.locator("main")).to_contain_text("Exports the sprint report")
        screenshots.save(manager, "requests-queue")
        manager.get_by_label("Lifetime in days").fill("30")  # narrowed from 60
        manager.get_by_role("button", name="Approve").click()
        expect(manager.locator("main")).not_to_contain_text("Exports the sprint")

    page.reload()
    page.get_by_role("button", name="Generate the token for weekly report").click()
    secret = page.locator("#secret").inner_text().strip()
    expect(page.locator("main")).to_contain_text("read-only")

    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer).status_code == (
        200
    )
    refused = httpx.post(
        f"{site.gate}/rest/api/2/issue", headers=bearer, json={"fields": {}}
    )
    assert refused.status_code == 403  # read-only, as asked


def test_a_manager_finds_one_token_among_thousands_and_revokes_it(
    page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    managers(setup)
    owners = ["alice", "bob", "dave"]
    for name in owners:
        setup.user(name)
    secrets = setup.many_tokens(owners, 3000, label="service {:04}")
    needle = secrets[1234]  # "service 1234", bob's (1234 % 3 == 1)
    bearer = {"Authorization": f"Bearer {needle}"}
    assert httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer).status_code == (
        200
    )

    sign_in(page, setup, "mia")
    page.get_by_role("link", name="Token Manager").click()
    expect(page.locator("main")).to_contain_text("3006 tokens")
    screenshots.save(page, "manage")
    # Typing narrows the results in place, without pressing Search (htmx); the
    # address follows, so the search can be bookmarked.
    page.get_by_label("Owners").press_sequentially("bob")
    page.get_by_label("Label contains").press_sequentially("1234")
    expect(page.locator("#results")).to_contain_text("1 token,")
    expect(page).to_have_url(re.compile(r"label=1234"))

    page.get_by_role("link", name="Revoke service 1234 of bob").click()
    page.get_by_label("Reason").fill("left the team")
    screenshots.save(page, "manage-revoke")
    page.get_by_role("button", name="Revoke 1 token").click()
    expect(page.get_by_role("status")).to_contain_text("evoked")

    assert httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer).status_code == (
        401
    )
    others = [secrets[1233], secrets[1235]]
    for other in others:
        answer = httpx.get(
            f"{site.gate}/rest/api/2/myself",
            headers={"Authorization": f"Bearer {other}"},
        )
        assert answer.status_code == 200
