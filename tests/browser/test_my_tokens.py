"""A person creates a token, copies it, uses it on the gate and revokes it, in
Chromium; and what the browser must refuse or allow around that."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Screenshots, Site, serve_page, sign_in
from tests.support import Setup


def test_create_copy_use_and_revoke_a_token(
    page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    setup.user("alice")
    sign_in(page, setup, "alice")
    screenshots.save(page, "my-tokens")

    page.get_by_label("Label").fill("reporting script")
    page.get_by_label("Scope").select_option("read-only")
    page.get_by_label("Lifetime in days").fill("30")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("reporting script")
    shown = page.locator("#secret").inner_text().strip()
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    screenshots.save(page, "token-created")

    assert copied == shown
    bearer = {"Authorization": f"Bearer {copied}"}
    read = httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer)
    write = httpx.post(
        f"{site.gate}/rest/api/2/issue", headers=bearer, json={"fields": {}}
    )
    assert read.status_code == 200
    assert write.status_code == 403  # read-only, as chosen in the form

    page.get_by_role("link", name="Done").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke reporting script").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    screenshots.save(page, "token-revoked")

    assert httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer).status_code == (
        401
    )


def test_declining_the_confirmation_keeps_the_token(
    page: Page, site: Site, setup: Setup
) -> None:
    secret = setup.user("alice")
    sign_in(page, setup, "alice")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke alice-setup").click()

    expect(page.get_by_role("button", name="Revoke alice-setup")).to_be_visible()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.gate}/rest/api/2/myself", headers=bearer).status_code == (
        200
    )


def test_a_cross_site_form_post_is_refused(
    browser: Browser, page: Page, site: Site, setup: Setup
) -> None:
    """Another site's page posts a form to tokenward while alice is signed in:
    no token is created for the attacker."""
    setup.user("alice")
    sign_in(page, setup, "alice")
    # "localhost" is another site than "127.0.0.1" for the browser.
    attacker_target = f"{site.ui}/tokens"
    with serve_page(
        "<form id='f' method='post' action='" + attacker_target + "'>"
        "<input name='label' value='planted'><input name='scope' value='read-write'>"
        "</form><script>document.getElementById('f').submit()</script>",
        host="localhost",
    ) as attacker:
        page.goto(attacker)
        page.wait_for_load_state("networkidle")
        landed = page.content()

    page.goto("/tokens")
    expect(page.locator("table")).not_to_contain_text("planted")
    assert "planted" not in landed or "Sign in" in landed or "Not done" in landed


def test_the_forms_work_with_the_keyboard_alone(
    page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    setup.user("alice")
    password = setup.password("alice")
    page.goto("/signin")
    screenshots.save(page, "signin")

    # The user name field has the focus; Tab moves to the password, Enter sends.
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/tokens")
    page.get_by_label("Label").focus()
    page.keyboard.type("typed only")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text("typed only")


def test_a_narrow_screen_shows_the_whole_page(
    browser: Browser, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    setup.user("alice")
    context = browser.new_context(
        base_url=site.ui, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = context.new_page()
    try:
        sign_in(phone, setup, "alice")
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth"
            " - document.documentElement.clientWidth"
        )
        screenshots.save(phone, "my-tokens-narrow")
    finally:
        context.close()

    assert overflow <= 0


def test_an_administrator_reads_the_audit_of_a_gate_call(
    page: Page, site: Site, setup: Setup, screenshots: Screenshots
) -> None:
    """Calls on the gate are in the audit log, found by user and outcome."""
    setup.admin()
    secret = setup.user("alice")
    httpx.get(  # refused: no such token
        f"{site.gate}/rest/api/2/myself", headers={"Authorization": "Bearer tw_x"}
    )
    httpx.post(
        f"{site.gate}/rest/api/2/issue",
        headers={"Authorization": f"Bearer {secret}"},
        json={"fields": {}},
    )
    sign_in(page, setup, "admin")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("User").fill("alice")
    page.get_by_label("Outcome").select_option("allowed")
    page.get_by_role("button", name="Search").click()

    expect(page.locator("table")).to_contain_text("gate_decision")
    expect(page.locator("table")).not_to_contain_text("denied")
    screenshots.save(page, "audit")
