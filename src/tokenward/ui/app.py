"""The web UI as one ASGI app: pages, static files, and the headers on all of them.

Each module under `tokenward.ui.pages` lists its routes in `routes`; this module
gathers them. The API listener's dispatcher (`tokenward.web.app`) sends every path
that is not the REST API, forward auth or an operations endpoint here.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tokenward.container import Container
from tokenward.logs import get_logger
from tokenward.ui.pages import (
    audit,
    docs,
    manage,
    policies,
    requests,
    signin,
    tokens,
    users,
)
from tokenward.ui.sessions import SignedIn
from tokenward.ui.site import COOKIE, SECURITY_HEADERS, Site
from tokenward.web.asgi import ASGIApp, Message, Receive, Scope, Send

log = get_logger(__name__)

_PAGE_MODULES = [signin, tokens, manage, requests, policies, users, audit, docs]


async def home(request: Request) -> Response:
    return RedirectResponse("/tokens", status_code=303)


def create_ui(container: Container) -> ASGIApp:
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/signin", signin.sign_in_form, methods=["GET"]),
        Route("/signin", signin.sign_in, methods=["POST"]),
        Route("/signout", signin.sign_out, methods=["POST"]),
        Mount(
            "/static",
            StaticFiles(packages=[("tokenward.ui", "static")]),
            name="static",
        ),
    ]
    for module in _PAGE_MODULES:
        routes.extend(getattr(module, "routes", []))
    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: _http_error,
            SQLAlchemyError: _storage_unavailable,
        },
    )
    app.state.site = Site(container)

    return SecurityHeaders(app)


async def _http_error(request: Request, error: Exception) -> Response:
    """404 and 405 as pages of the UI."""
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for it
    site: Site = request.app.state.site
    person: SignedIn | None = await site.sessions.resolve(request.cookies.get(COOKIE))
    message = {
        404: "There is no page here.",
        405: "This page does not take that kind of request.",
    }.get(error.status_code, "This request cannot be answered.")

    return site.render(
        request,
        "error.html",
        status=error.status_code,
        person=person,
        message=message,
        back="/",
    )


async def _storage_unavailable(request: Request, error: Exception) -> Response:
    """The database cannot be reached: a page that says so, 503, never a session
    lookup (it would fail the same way) and never a half-done change."""
    log.warning("ui_storage_unavailable", error=str(error), path=request.url.path)
    site: Site = request.app.state.site

    return site.render(
        request,
        "error.html",
        status=503,
        message=(
            "tokenward cannot reach its database right now, so nothing was shown "
            "or changed. Try again in a moment."
        ),
        back=request.url.path if request.method == "GET" else "/",
    )


class SecurityHeaders:
    """Adds the UI's security headers (site.SECURITY_HEADERS) to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [
            (name.lower().encode(), value.encode())
            for name, value in SECURITY_HEADERS.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
