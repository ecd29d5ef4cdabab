"""The web UI's shared parts: templates, sessions, sign-in, cookies and headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tokenward import __version__
from tokenward.container import Container
from tokenward.gate.addresses import parse_address
from tokenward.policies.permissions import Permission
from tokenward.ui.sessions import SESSION_COOKIE
from tokenward.ui.signin import Authenticator, LocalPasswords, SignInThrottle

COOKIE = SESSION_COOKIE

# No inline script or style anywhere; htmx's own indicator style is switched off
# (meta htmx-config in the layout) so that nothing needs 'unsafe-inline'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _format_time(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"

    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _format_date(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"

    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


class Site:
    """Everything the pages share, built once per app."""

    def __init__(
        self, container: Container, authenticator: Authenticator | None = None
    ) -> None:
        settings = container.settings
        self.container = container
        self.sessions = container.ui_sessions
        self.authenticator: Authenticator = authenticator or LocalPasswords(
            container.db
        )
        self.throttle = SignInThrottle(container.clock, settings.ui_signin_max_failures)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("tokenward.ui", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["time"] = _format_time
        self.templates.filters["date"] = _format_date
        self.templates.globals.update(
            version=__version__, Permission=Permission, now=container.clock.now
        )

    def render(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        person: Any = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page with the security headers. Pages are never stored by caches:
        they show who is signed in, and some show a secret once."""
        context.setdefault("notice", None)
        body = self.templates.get_template(template).render(
            request=request, person=person, path=request.url.path, **context
        )
        response = HTMLResponse(body, status_code=status)
        response.headers["Cache-Control"] = "no-store"

        return response

    def secure_cookie(self, request: Request) -> bool:
        """Whether the session cookie gets the Secure flag (`ui_secure_cookie`)."""
        setting = self.container.settings.ui_secure_cookie
        if setting != "auto":
            return setting == "always"
        if request.url.scheme == "https":
            return True
        peer = parse_address(request.client.host) if request.client else None
        trusted = self.container.settings.trusted_proxy_networks
        if peer is not None and any(peer in network for network in trusted):
            forwarded = request.headers.get("x-forwarded-proto", "")
            return forwarded.split(",")[-1].strip().lower() == "https"

        return False

    def set_session_cookie(
        self, request: Request, response: Response, secret: str
    ) -> None:
        response.set_cookie(
            COOKIE,
            secret,
            max_age=int(self.sessions.lifetime.total_seconds()),
            path="/",
            httponly=True,
            secure=self.secure_cookie(request),
            samesite="lax",
        )

    def clear_session_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE,
            path="/",
            httponly=True,
            secure=self.secure_cookie(request),
            samesite="lax",
        )
