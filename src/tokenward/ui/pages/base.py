"""What every page handler gets: the signed-in person, their services, the form
(already checked against cross-site forgery), and ways to answer.

A handler is an `async def (visit: Visit) -> Response` wrapped by `page`, which
finds the session (or sends the browser to sign in), checks a permission, checks
the CSRF token of every state change, and turns domain errors into pages.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tokenward.audit.services import Origin
from tokenward.container import Container
from tokenward.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TokenwardError,
)
from tokenward.policies.permissions import Permission
from tokenward.ui.sessions import ForgeryError, SignedIn
from tokenward.ui.site import COOKIE, Site
from tokenward.web.dependencies import origin_of

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Visit:
    """One request to a page by a signed-in person."""

    request: Request
    site: Site
    person: SignedIn
    form: FormData = field(default_factory=FormData)

    @property
    def services(self) -> Container:
        return self.site.container

    @property
    def origin(self) -> Origin:
        return origin_of(self.request, self.site.container)

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        notices: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The page `template` with `context`; `notices` maps the `done` query
        value a redirect set to the sentence shown on top."""
        done = self.request.query_params.get("done")
        notice = (notices or {}).get(done or "")

        return self.site.render(
            self.request,
            template,
            status=status,
            person=self.person,
            notice=notice,
            **context,
        )

    def redirect(self, path: str, *, done: str | None = None) -> RedirectResponse:
        """See other: the browser loads `path` (an own path) after a POST."""
        target = path if done is None else f"{path}?done={quote(done)}"

        return RedirectResponse(target, status_code=303)

    def value(self, name: str) -> str:
        """A form field as text, stripped; empty when absent."""
        found = self.form.get(name)

        return found.strip() if isinstance(found, str) else ""

    def values(self, name: str) -> list[str]:
        """Every value of a repeated form field (checkboxes), stripped, non-empty."""
        return [
            item.strip()
            for item in self.form.getlist(name)
            if isinstance(item, str) and item.strip()
        ]


Handler = Callable[[Visit], Awaitable[Response]]


def page(
    needs: Permission | None = None,
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: signed-in person required, `needs` checked, CSRF checked on
    every method but GET and HEAD, domain errors shown as pages."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            site: Site = request.app.state.site
            cookie = request.cookies.get(COOKIE)
            person = await site.sessions.resolve(cookie)
            if person is None or cookie is None:
                return _to_sign_in(request)
            visit = Visit(request=request, site=site, person=person)
            try:
                if request.method not in _SAFE_METHODS:
                    visit.form = await request.form()
                    check_forgery(request, site, cookie, visit.form)
                if needs is not None and not person.may(needs):
                    raise PermissionDeniedError(needs)

                return await handler(visit)
            except TokenwardError as error:
                return error_page(request, site, error, person=person)

        return endpoint

    return wrap


def check_forgery(
    request: Request, site: Site, cookie: str, form: FormData | None
) -> None:
    """Refuse a state change that another site could have caused: it must carry
    this session's CSRF token (form field or header), and a browser that names
    the origin must name ours."""
    if not same_origin(request):
        raise ForgeryError("this form was sent from another site; nothing was changed")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and form is not None:
        field_value = form.get(CSRF_FIELD)
        presented = field_value if isinstance(field_value, str) else None
    if not site.sessions.csrf_matches(cookie, presented):
        raise ForgeryError(
            "this form is out of date or was not sent from tokenward's own page; "
            "nothing was changed: reload the page and try again"
        )


def same_origin(request: Request) -> bool:
    """False if the browser says the request comes from another site."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    sent = request.headers.get("origin")
    if sent is None:
        return True
    if sent == "null":
        return False
    host = request.headers.get("host", "")

    return urlsplit(sent).netloc == host


def error_page(
    request: Request,
    site: Site,
    error: TokenwardError,
    *,
    person: SignedIn | None,
) -> HTMLResponse:
    status = 400
    if isinstance(error, ForgeryError | PermissionDeniedError):
        status = 403
    elif isinstance(error, NotFoundError):
        status = 404
    elif isinstance(error, InvalidInputError):
        status = 422

    return site.render(
        request,
        "error.html",
        status=status,
        person=person,
        message=error.message,
        back=_back_link(request),
    )


def _back_link(request: Request) -> str:
    """Where "back" goes: the page the form was on, if it was one of ours."""
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.headers.get("host", "") and parts.path.startswith(
            "/"
        ):
            return parts.path + (f"?{parts.query}" if parts.query else "")

    return "/"


def _to_sign_in(request: Request) -> Response:
    if request.method in _SAFE_METHODS:
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"

        return RedirectResponse(f"/signin?next={quote(target, safe='')}", 303)

    return RedirectResponse("/signin?done=ended", status_code=303)
