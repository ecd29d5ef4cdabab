"""Sign-in and sign-out.

The sign-in form is protected against login forgery (a site signing you in as
someone else) by a random value in a short-lived cookie that the form repeats, and
by the browser's Origin. Failures are throttled per user name and per address.
"""

from __future__ import annotations

import math
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.ui.pages.base import (
    CSRF_FIELD,
    Visit,
    error_page,
    page,
    same_origin,
)
from tokenward.ui.sessions import ForgeryError
from tokenward.ui.site import COOKIE, Site
from tokenward.web.dependencies import client_address, origin_of

_FORM_COOKIE = "tokenward_signin"
_NOTICES = {
    "ended": "Your session has ended. Sign in again; nothing was changed.",
    "signed_out": "You are signed out.",
}


async def sign_in_form(request: Request) -> Response:
    site: Site = request.app.state.site
    if await site.sessions.resolve(request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(_next_page(request.query_params.get("next")), 303)

    return _form(request, site, status=200)


async def sign_in(request: Request) -> Response:
    site: Site = request.app.state.site
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.cookies.get(_FORM_COOKIE)
    if (
        not same_origin(request)
        or not isinstance(sent, str)
        or not expected
        or not secrets.compare_digest(sent, expected)
    ):
        return error_page(
            request,
            site,
            ForgeryError(
                "this sign-in form is out of date or came from another site; "
                "reload the sign-in page and try again"
            ),
            person=None,
        )
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_page = _next_page(str(form.get("next") or ""))
    client = client_address(request, site.container)
    keys = (f"user:{username.lower()}", f"address:{client}")
    wait = site.throttle.retry_after(*keys)
    if wait is not None:
        minutes = math.ceil(wait.total_seconds() / 60)
        return _form(
            request,
            site,
            status=429,
            username=username,
            next_page=next_page,
            error=(
                "Too many failed sign-ins for this user or from this address. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            ),
        )
    user = (
        await site.authenticator.authenticate(username, password)
        if username and password
        else None
    )
    origin = origin_of(request, site.container)
    if user is None:
        site.throttle.failed(*keys)
        await _audit_failure(site, origin, username)
        return _form(
            request,
            site,
            status=401,
            username=username,
            next_page=next_page,
            error="The user name or password is wrong, or the account is disabled.",
        )
    site.throttle.succeeded(keys[0])
    secret = await site.sessions.open(user, origin)
    response = RedirectResponse(next_page, status_code=303)
    site.set_session_cookie(request, response, secret)
    response.delete_cookie(_FORM_COOKIE, path="/signin")

    return response


@page()
async def sign_out(visit: Visit) -> Response:
    request, site = visit.request, visit.site
    cookie = request.cookies.get(COOKIE)
    if cookie:
        await site.sessions.close(cookie, visit.origin)
    response = RedirectResponse("/signin?done=signed_out", status_code=303)
    site.clear_session_cookie(request, response)

    return response


def _form(
    request: Request,
    site: Site,
    *,
    status: int,
    username: str = "",
    next_page: str | None = None,
    error: str | None = None,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = site.render(
        request,
        "signin.html",
        status=status,
        username=username,
        next_page=next_page or _next_page(request.query_params.get("next")),
        error=error,
        notice=_NOTICES.get(request.query_params.get("done") or ""),
        form_token=token,
    )
    response.set_cookie(
        _FORM_COOKIE,
        token,
        max_age=3600,
        path="/signin",
        httponly=True,
        secure=site.secure_cookie(request),
        samesite="strict",
    )

    return response


def _next_page(wanted: str | None) -> str:
    """Where to go after sign-in: an own path only, never another site."""
    if not wanted:
        return "/"
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not wanted.startswith("/"):
        return "/"
    if wanted.startswith("//") or "\\" in wanted:
        return "/"

    return wanted


async def _audit_failure(site: Site, origin: Origin, username: str) -> None:
    container = site.container
    async with container.db.write() as session:
        await append(
            session,
            [
                AuditEntry(
                    event=AuditEvent.UI_SIGN_IN_FAILED,
                    outcome=Outcome.DENIED,
                    subject=username[:255] or None,
                    reason="bad_credentials",
                )
            ],
            origin=origin,
            now=container.clock.now(),
        )
