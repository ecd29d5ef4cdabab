"""The documentation served by the app: public, linked, and nothing but docs/
(SPEC I1, I6)."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.functional.ui.browser import WebClient
from tests.support import LiveServer, Setup
from tokenward.ui.pages.docs import catalogue, render

_HREF = re.compile(r'href="([^"]+)"')
_ID = re.compile(r' id="([^"]+)"')


def test_the_index_lists_every_page_without_signing_in(server: LiveServer) -> None:
    """/docs/ needs no session and links to each document found in docs/."""
    known = catalogue()

    page = httpx.get(f"{server.url}/docs/")

    assert page.status_code == 200
    assert "Sign out" not in page.text
    assert known.pages, "docs/ should hold documents"
    for name in known.pages:
        assert f'href="/docs/{name}"' in page.text


def test_every_link_between_documents_leads_somewhere(server: LiveServer) -> None:
    """Each link from one served document to another, anchors included, works."""
    pages: dict[str, str] = {}
    with httpx.Client(base_url=server.url) as client:
        for name in ["", *catalogue().pages]:
            answer = client.get(f"/docs/{name}")
            assert answer.status_code == 200, name
            pages[f"/docs/{name}"] = answer.text
        checked = 0
        for source, text in pages.items():
            assert ".md" not in "".join(_HREF.findall(text)), source
            for href in _HREF.findall(text):
                parts = urlsplit(href)
                target = parts.path or source
                if parts.scheme or not target.startswith("/docs/"):
                    continue
                if target not in pages:
                    assert client.get(target).status_code == 200, (source, href)
                elif parts.fragment:
                    assert parts.fragment in _ID.findall(pages[target]), (source, href)
                checked += 1

    assert checked > 20


def test_a_page_renders_markdown_with_tables_and_heading_ids(
    server: LiveServer,
) -> None:
    """A document is shown as HTML in the layout, titled by its first heading."""
    page = httpx.get(f"{server.url}/docs/configuration")

    assert page.status_code == 200
    assert "<title>Configuration · tokenward</title>" in page.text
    assert '<h1 id="configuration">Configuration</h1>' in page.text
    assert '<div class="table-wrap"><table>' in page.text
    assert 'href="/docs/operations#logs"' in page.text


def test_configuration_files_beside_the_guides_are_plain_text(
    server: LiveServer,
) -> None:
    """A deployment guide's linked configuration file is served as text."""
    guide = httpx.get(f"{server.url}/docs/deploy/nginx")
    config = httpx.get(f"{server.url}/docs/deploy/nginx.conf")

    assert 'href="/docs/deploy/nginx.conf"' in guide.text
    assert config.status_code == 200
    assert config.headers["content-type"].startswith("text/plain")
    assert config.headers["x-content-type-options"] == "nosniff"


def test_raw_html_in_a_document_is_shown_as_text() -> None:
    """Markup written in a document is escaped, never run."""
    document = render(
        "example",
        "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        catalogue(),
    )

    assert "<script>" not in document.body
    assert "&lt;script&gt;" in document.body
    assert 'href="javascript' not in document.body


@pytest.mark.parametrize(
    "path",
    [
        "/docs/..%2Fpyproject",
        "/docs/../pyproject.toml",
        "/docs/..%2F..%2Fpyproject.toml",
        "/docs/deploy/..%2F..%2Fpyproject.toml",
        "/docs/deploy/../../README.md",
        "/docs/%2e%2e",
        "/docs/README",
        "/docs/nginx.conf",
        "/docs/deploy",
        "/docs/no-such-page",
    ],
)
def test_names_outside_the_documentation_are_not_found(
    server: LiveServer, path: str
) -> None:
    """Only catalogued documents are served; traversal attempts find nothing."""
    address = urlsplit(server.url)
    # http.client sends the path as written: no client-side dot-segment cleanup.
    connection = http.client.HTTPConnection(address.hostname or "", address.port)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read().decode()
    finally:
        connection.close()

    assert answer.status == 404
    assert "[project]" not in body


def test_a_signed_in_person_keeps_their_menu_on_documentation_pages(
    server: LiveServer, setup: Setup
) -> None:
    """The layout shows the person's navigation on docs pages too."""
    setup.admin()
    with WebClient(server.url) as web:
        web.sign_in("admin", setup.password("admin"))
        page = web.get("/docs/security")

    assert page.status_code == 200
    assert 'href="/audit"' in page.text
    assert 'aria-current="page">Documentation' in page.text


def test_the_pictures_of_the_ui_are_shown_and_served(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/docs/ui")
    sources = re.findall(r'<img src="([^"]+)"', page.text)
    picture = httpx.get(f"{server.url}{sources[0]}")
    missing = httpx.get(f"{server.url}/docs/screenshots/nothing.png")

    assert len(sources) >= 10
    assert all(source.startswith("/docs/screenshots/") for source in sources)
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
    assert missing.status_code == 404
