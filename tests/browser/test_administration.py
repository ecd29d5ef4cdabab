"""An administrator changes a policy and looks after users in Chromium; and what
someone who does not administer gets on those pages."""

from __future__ import annotations

import datetime as dt

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshots, Site, sign_in
from tests.support import Setup
from tokenward.clock import FrozenClock


def test_an_administrator_tightens_a_policy_and_sees_its_impact(
    page: Page, site: Site, setup: Setup, clock: FrozenClock, screenshots: Screenshots
) -> None:
    """A 30-day maximum for self-created tokens names carol's never-expiring token
    on the preview, and choosing "shorten" makes it end within 30 days."""
    setup.admin()
    bearer = {"Authorization": f"Bearer {setup.user('carol', groups=('developers',))}"}
    # Out of the box anyone may create a token for themselves that never expires.
    created = httpx.post(
        f"{site.ui}/api/v1/tokens",
        headers=bearer,
        json={"label": "deploy key", "never_expires": True},
    )
    assert created.status_code == 201, created.text
    token_id = created.json()["token"]["id"]
    assert created.json()["token"]["expires_at"] is None

    sign_in(page, setup, "admin")
    page.get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Policies")
    screenshots.save(page, "policies")

    page.get_by_role("link", name="Token policy").click()
    page.get_by_label("Maximum days (self)").fill("30")
    screenshots.save(page, "policy-tokens")
    page.get_by_role("button", name="Preview the change").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm the change")
    breaking = page.get_by_role("table").filter(has_text="Tokens that break it")
    expect(breaking).to_contain_text("carol")
    expect(breaking).to_contain_text("deploy key")
    expect(breaking).to_contain_text(token_id)
    screenshots.save(page, "policy-impact")

    page.get_by_label("Shorten them to the new limit").check()
    page.get_by_role("button", name="Save the change").click()

    expect(page.get_by_role("status")).to_contain_text("shortened")
    answer = httpx.get(f"{site.ui}/api/v1/tokens/{token_id}", headers=bearer)
    expires_at = dt.datetime.fromisoformat(answer.json()["expires_at"])
    assert answer.json()["status"] == "active"
    assert clock.now() < expires_at <= clock.now() + dt.timedelta(days=30)


def test_an_administrator_opens_the_gate_policy_and_the_directory(
    page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    """The policy forms, the users list, a user's page and the groups each open
    from the navigation with what they are about."""
    setup.admin()
    setup.user("carol", groups=("developers",))
    setup.user("dave", groups=("developers", "operations"))
    sign_in(page, setup, "admin")

    page.goto("/policies")
    page.get_by_role("link", name="Permissions by group").click()
    expect(page.get_by_label("Group operations").first).not_to_be_checked()
    screenshots.save(page, "policy-permissions")

    page.goto("/policies")
    page.get_by_role("link", name="Gate policy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gate policy")
    screenshots.save(page, "policy-gate")

    page.goto("/policies")
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_label("Expiry reminders, days before")).to_be_visible()
    screenshots.save(page, "policy-notifications")

    page.get_by_role("link", name="Users and groups").click()
    expect(page.get_by_role("row").filter(has_text="dave")).to_contain_text(
        "operations"
    )
    screenshots.save(page, "users")

    page.get_by_role("link", name="carol", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("carol")
    expect(page.get_by_label("developers")).to_be_checked()
    screenshots.save(page, "user")

    page.goto("/groups")
    expect(page.get_by_role("link", name="operations")).to_be_visible()
    screenshots.save(page, "groups")


def test_the_administration_pages_fit_a_narrow_screen(
    browser: Browser, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    """On a phone, no policy or directory page is wider than the screen: wide
    tables scroll inside their frame."""
    setup.admin()
    setup.user("carol", groups=("developers",))
    context = browser.new_context(
        base_url=site.ui, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = context.new_page()
    overflow: dict[str, int] = {}
    try:
        sign_in(phone, setup, "admin")
        for path in (
            "/policies",
            "/policies/permissions",
            "/policies/tokens",
            "/policies/gate",
            "/policies/notifications",
            "/users",
            "/users/carol",
            "/groups",
        ):
            phone.goto(path)
            overflow[path] = phone.evaluate(
                "document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth"
            )
        phone.goto("/policies/tokens")
        screenshots.save(phone, "policy-tokens-narrow")
    finally:
        context.close()

    assert {path: extra for path, extra in overflow.items() if extra > 0} == {}


def test_someone_who_does_not_administer_is_refused_the_policies(
    page: Page, site: Site, setup: Setup
) -> None:
    """A signed-in user without administer gets the refusal page (403) on
    /policies, and the navigation does not offer it."""
    setup.admin()
    setup.user("carol")
    sign_in(page, setup, "carol")

    expect(page.get_by_role("link", name="Policies")).to_have_count(0)
    answer = page.goto("/policies")

    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not done")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Token policy")
