"""The documentation in docs/, served as pages of the UI (SPEC I1, I6).

The pages are public: they describe the product, not an installation, so nobody
needs to sign in to read them. Markdown is rendered with raw HTML switched off, so
a document can never put script or markup of its own into a page.

Only names found when the directory was listed are served: a request names an
entry of that catalogue and is never turned into a path, so `..` or an encoded
slash finds nothing.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from tokenward.ui.site import COOKIE, Site

# A symbolic link to the repository's docs/ in a checkout; the files themselves
# once installed (package data).
DOCS_DIRECTORY = Path(__file__).resolve().parent.parent / "docs"
DEPLOY = "deploy"
SCREENSHOTS = "screenshots"  # the pictures of the UI in docs/ui.md
_PAGE_NAME = re.compile(r"[a-z0-9-]+")
# The configuration files beside the deployment guides (nginx.conf, Caddyfile).
_FILE_NAME = re.compile(r"[A-Za-z0-9-]+(\.[a-z]+)?")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//|#|/)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What may be served: pages by name ("policies", "deploy/nginx") and plain
    files by name ("deploy/nginx.conf"), each with its file."""

    index: Path | None
    pages: dict[str, Path]
    files: dict[str, Path]


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    title: str
    body: Markup


def catalogue(directory: Path = DOCS_DIRECTORY) -> Catalogue:
    """The documents found in `directory` and its deploy/ folder."""
    pages: dict[str, Path] = {}
    files: dict[str, Path] = {}
    folders = (
        (directory, ""),
        (directory / DEPLOY, f"{DEPLOY}/"),
        (directory / SCREENSHOTS, f"{SCREENSHOTS}/"),
    )
    for folder, prefix in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            if prefix == f"{SCREENSHOTS}/":
                if path.suffix == ".png" and _FILE_NAME.fullmatch(path.name):
                    files[prefix + path.name] = path
            elif path.suffix == ".md" and _PAGE_NAME.fullmatch(path.stem):
                pages[prefix + path.stem] = path
            elif prefix and path.suffix != ".md" and _FILE_NAME.fullmatch(path.name):
                files[prefix + path.name] = path
    index = directory / "README.md"

    return Catalogue(index if index.is_file() else None, pages, files)


def _markdown() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    # Wide tables scroll inside their own box on a narrow screen.
    renderer.add_render_rule("table_open", _table_open)
    renderer.add_render_rule("table_close", _table_close)

    return renderer


def _table_open(*_: Any) -> str:
    return '<div class="table-wrap"><table>\n'


def _table_close(*_: Any) -> str:
    return "</table></div>\n"


_MARKDOWN = _markdown()


def render(name: str, text: str, known: Catalogue) -> Document:
    """The page for the Markdown `text` of document `name`: headings get the ids
    that GitHub gives them (the documents link to those), and links to other
    documents point at their pages here."""
    tokens = _MARKDOWN.parse(text)
    folder = posixpath.dirname(name)
    slugs: dict[str, int] = {}
    title = name
    for position, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = _plain_text(tokens[position + 1].children or [])
            token.attrSet("id", _slug(heading, slugs))
            if token.tag == "h1" and title == name:
                title = heading
        elif token.type in ("th_open", "td_open"):
            # Alignment comes as a style attribute, which the CSP would refuse.
            token.attrs.pop("style", None)
        elif token.type == "inline" and token.children:
            token.children = _relinked(token.children, folder, known)
    body = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})

    # markdown-it escapes all text and, with html off, every tag in the source.
    return Document(name=name, title=title, body=Markup(body))  # noqa: S704


def _plain_text(children: Sequence[Token]) -> str:
    return "".join(
        child.content for child in children if child.type in ("text", "code_inline")
    )


def _slug(heading: str, seen: dict[str, int]) -> str:
    base = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    count = seen.get(base, 0)
    seen[base] = count + 1

    return base if count == 0 else f"{base}-{count}"


def _relinked(children: list[Token], folder: str, known: Catalogue) -> list[Token]:
    """Links to documents rewritten to their pages; links to files outside the
    documentation (which have no page here) kept as plain text."""
    kept: list[Token] = []
    dropping = False
    for child in children:
        if child.type == "image":
            source = doc_link(str(child.attrGet("src") or ""), folder, known)
            if source is None:
                continue
            child.attrSet("src", source)
        elif child.type == "link_open":
            target = doc_link(str(child.attrGet("href") or ""), folder, known)
            if target is None:
                dropping = True
                continue
            child.attrSet("href", target)
        elif child.type == "link_close" and dropping:
            dropping = False
            continue
        kept.append(child)

    return kept


def doc_link(href: str, folder: str, known: Catalogue) -> str | None:
    """Where a link in a document of `folder` leads in the served documentation;
    None for a relative link to anything that is not served."""
    if _EXTERNAL.match(href):
        return href
    target, hash_mark, fragment = href.partition("#")
    anchor = hash_mark + fragment
    resolved = posixpath.normpath(posixpath.join(folder, target))
    if resolved == "README.md" or (target.endswith("/") and resolved == DEPLOY):
        return "/docs/" + (anchor or ("#" + DEPLOY if resolved == DEPLOY else ""))
    if resolved.endswith(".md") and resolved[:-3] in known.pages:
        return f"/docs/{resolved[:-3]}{anchor}"
    if resolved in known.files:
        return f"/docs/{resolved}"

    return None


@functools.cache
def _known() -> Catalogue:
    return catalogue()


@functools.cache
def _document(name: str) -> Document:
    known = _known()
    path = known.index if name == "" else known.pages[name]
    if path is None:
        return Document(name="", title="Documentation", body=Markup(""))

    return render(name or "README", path.read_text(encoding="utf-8"), known)


async def _person(request: Request) -> Any:
    """Whoever is signed in, if anyone: the layout shows their menu."""
    site: Site = request.app.state.site

    return await site.sessions.resolve(request.cookies.get(COOKIE))


async def index(request: Request) -> Response:
    """The documentation's own index (docs/README.md) and every page found."""
    site: Site = request.app.state.site
    known = _known()
    listing = [
        (name, _document(name).title)
        for name in known.pages
        if not name.startswith(f"{DEPLOY}/")
    ]
    deploy = [
        (name, _document(name).title)
        for name in known.pages
        if name.startswith(f"{DEPLOY}/")
    ]

    return site.render(
        request,
        "docs/index.html",
        person=await _person(request),
        document=_document(""),
        listing=listing,
        deploy=deploy,
    )


async def document(request: Request) -> Response:
    """One top-level document as a page."""
    return await _serve(request, request.path_params["name"])


async def deploy_document(request: Request) -> Response:
    """One deployment guide as a page, or a configuration file beside it."""
    return await _serve(request, f"{DEPLOY}/{request.path_params['name']}")


async def screenshot(request: Request) -> Response:
    """A picture of the UI, shown in docs/ui.md."""
    return await _serve(request, f"{SCREENSHOTS}/{request.path_params['name']}")


async def _serve(request: Request, name: str) -> Response:
    """The page or file `name`; 404 for any name not in the catalogue."""
    site: Site = request.app.state.site
    known = _known()
    if name in known.files:
        path = known.files[name]
        if path.suffix == ".png":
            return FileResponse(path, media_type="image/png")
        return PlainTextResponse(path.read_text(encoding="utf-8"))
    if name not in known.pages:
        raise HTTPException(404)

    return site.render(
        request,
        "docs/page.html",
        person=await _person(request),
        document=_document(name),
    )


async def to_index(request: Request) -> Response:
    return RedirectResponse("/docs/", status_code=308)


routes: list[BaseRoute] = [
    Route("/docs", to_index, methods=["GET"]),
    Route("/docs/", index, methods=["GET"]),
    Route(f"/docs/{DEPLOY}/{{name:str}}", deploy_document, methods=["GET"]),
    Route(f"/docs/{SCREENSHOTS}/{{name:str}}", screenshot, methods=["GET"]),
    Route("/docs/{name:str}", document, methods=["GET"]),
]
