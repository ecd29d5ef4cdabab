"""The web UI in a real browser: Debian's Chromium driven by Playwright.

Nothing is downloaded: Playwright is pointed at the system's Chromium
(`executable_path`). Without it these tests skip, saying so; CI installs it.

Screenshots of each page are saved by the tests into `.screenshots/` (ignored by
git); with TOKENWARD_UPDATE_SCREENSHOTS=1 they replace the ones in
docs/screenshots/, which docs/ui.md shows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support import LiveProxy, Setup, serve_asgi, start_proxy
from tokenward.clock import FrozenClock
from tokenward.config import Settings
from tokenward.demo import create_demo_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    configured = os.environ.get("TOKENWARD_CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, for the tests of one module. While Playwright's sync API is
    active, an event loop counts as running in this thread (asyncio.run fails),
    so it is stopped before other modules' tests."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "browser tests need Debian's Chromium (apt-get install chromium) "
            "or TOKENWARD_CHROMIUM naming a Chromium binary"
        )
    # Chromium's sandbox cannot start as root (as in CI containers).
    arguments = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=arguments
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    """tokenward serving its UI and API (`ui`) and the gate (`gate`) in front of
    the demo upstream."""

    ui: str
    gate: str
    live: LiveProxy


@pytest.fixture
def site(settings: Settings, clock: FrozenClock) -> Iterator[Site]:
    with (
        serve_asgi(create_demo_app()) as upstream,
        start_proxy(settings, clock, upstream) as live,
    ):
        yield Site(ui=live.api_url, gate=live.url, live=live)


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(
        base_url=site.ui,
        viewport={"width": 1280, "height": 860},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


class Screenshots:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def save(self, page: Page, name: str) -> Path:
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session")
def screenshots() -> Screenshots:
    if os.environ.get("TOKENWARD_UPDATE_SCREENSHOTS") == "1":
        return Screenshots(ROOT / "docs" / "screenshots")
    return Screenshots(ROOT / ".screenshots")


def sign_in(page: Page, setup: Setup, username: str) -> None:
    """Sign `username` in through the form (they get a password first)."""
    password = setup.password(username)
    page.goto("/signin")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/tokens")


@contextmanager
def serve_page(html: str, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve one HTML page from another origin (another site's page, in tests of
    cross-site requests); yields its URL on `host`."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": html.encode()})

    with serve_asgi(app) as url:
        yield url.replace("127.0.0.1", host)
