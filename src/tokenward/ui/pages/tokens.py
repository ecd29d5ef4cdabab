"""My tokens: the signed-in person's own tokens, and their upstream credential.

A new or rotated token's secret is shown on the answer to the POST that made it and
nowhere else: it is not in a URL, not stored, and the page is marked no-store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tokenward.config import Settings
from tokenward.errors import InvalidInputError
from tokenward.policies.permissions import Permission
from tokenward.tokens.attributes import Scope
from tokenward.tokens.specs import IssuedToken, TokenSpec
from tokenward.ui.pages.base import Visit, page
from tokenward.upstream.errors import UpstreamCredentialNotFoundError
from tokenward.upstream.schemes import Scheme

NOTICES = {
    "revoked": "The token is revoked. Calls with it are refused from now on.",
    "credential_saved": "Your upstream credential is saved and was accepted upstream.",
    "credential_checked": "The upstream still accepts your stored credential.",
    "credential_removed": "Your upstream credential is removed.",
}
_PLACEHOLDER_API = "https://api.example.com"
_EXAMPLE_PATH = "/rest/api/2/myself"


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    command: str


def api_url(settings: Settings) -> str:
    """Where the examples send their calls (setting `ui_api_url`)."""
    if settings.ui_api_url:
        return settings.ui_api_url.rstrip("/")
    if settings.gate_upstream_url:
        host = settings.host
        if host in ("", "0.0.0.0"):  # noqa: S104 - compared with, not bound to
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{settings.gate_port}"

    return _PLACEHOLDER_API


def examples(settings: Settings, issued: IssuedToken) -> list[Example]:
    """Ready-to-paste calls with the new secret: Bearer, and Basic for clients that
    only speak user name and password."""
    url = api_url(settings) + _EXAMPLE_PATH
    secret, owner = issued.secret, issued.token.owner.username

    return [
        Example(
            "Bearer (preferred)",
            f'curl -H "Authorization: Bearer {secret}" {url}',
        ),
        Example("Basic (user name and token)", f"curl -u '{owner}:{secret}' {url}"),
    ]


def show_secret(
    visit: Visit, issued: IssuedToken, *, rotated: bool = False
) -> Response:
    """The one page that shows a secret."""
    settings = visit.services.settings

    return visit.render(
        "tokens/created.html",
        issued=issued,
        rotated=rotated,
        examples=examples(settings, issued),
        placeholder_api=api_url(settings) == _PLACEHOLDER_API,
    )


@page()
async def my_tokens(visit: Visit) -> Response:
    return await _list(visit)


async def _list(
    visit: Visit,
    *,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    services, actor = visit.services, visit.person.actor
    tokens = await services.tokens.list_own(actor)
    rule, read_only = await services.token_policy.own_limits(actor)
    credential = None
    injecting = services.settings.gate_identity == "inject"
    if injecting:
        try:
            credential = await services.upstream_credentials.get(actor, actor.name)
        except UpstreamCredentialNotFoundError:
            credential = None

    return visit.render(
        "tokens/mine.html",
        status=status,
        notices=NOTICES,
        tokens=tokens,
        now=services.clock.now(),
        may_create=actor.may(Permission.CREATE_OWN_TOKENS),
        max_days=None if rule.max_lifetime is None else rule.max_lifetime.days,
        default_days=rule.default_lifetime.days,
        never_allowed=rule.never_expires,
        read_only_forced=read_only,
        injecting=injecting,
        credential=credential,
        schemes=list(Scheme),
        error=error,
        typed=typed or {},
    )


@page(needs=Permission.CREATE_OWN_TOKENS)
async def create(visit: Visit) -> Response:
    typed = {
        name: visit.value(name)
        for name in ("label", "scope", "days", "never", "networks", "headers")
    }
    try:
        spec = spec_from_form(visit)
        issued = await visit.services.tokens.create(
            visit.person.actor, visit.origin, spec
        )
    except InvalidInputError as error:
        return await _list(visit, status=422, error=error.message, typed=typed)

    return show_secret(visit, issued)


def spec_from_form(visit: Visit, *, label_field: str = "label") -> TokenSpec:
    """A TokenSpec from the create form's fields (shared with the Token Manager).

    Raises InvalidInputError naming the field that cannot be read; the service
    checks everything else (lengths, ranges, the policy).
    """
    scope_text = visit.value("scope") or Scope.READ_WRITE.value
    try:
        scope = Scope(scope_text)
    except ValueError:
        raise InvalidInputError(
            "scope is read-write or read-only", field="scope"
        ) from None
    never = visit.value("never") == "on"
    days_text = visit.value("days")
    days: int | None = None
    if days_text and not never:
        if not days_text.isdigit():
            raise InvalidInputError(
                "the lifetime is a whole number of days", field="days"
            )
        days = int(days_text)

    return TokenSpec(
        label=visit.value(label_field),
        scope=scope,
        expires_in_days=days,
        never_expires=never,
        allowed_networks=lines(visit.value("networks")),
        header_restrictions=header_lines(visit.value("headers")),
    )


def lines(text: str) -> list[str]:
    """One entry a line (commas also separate); blanks ignored."""
    return [
        item.strip()
        for line in text.splitlines()
        for item in line.split(",")
        if item.strip()
    ]


def header_lines(text: str) -> dict[str, str]:
    """`Name: value` a line, as header restrictions."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise InvalidInputError(
                f"header restriction on line {number} is not 'Name: value'",
                field="header_restrictions",
            )
        found[name.strip()] = value.strip()

    return found


@page()
async def detail(visit: Visit) -> Response:
    token = await visit.services.tokens.get(
        visit.person.actor, visit.request.path_params["token_id"]
    )

    return visit.render(
        "tokens/detail.html", token=token, now=visit.services.clock.now()
    )


@page()
async def revoke(visit: Visit) -> Response:
    await visit.services.tokens.revoke(
        visit.person.actor,
        visit.origin,
        [visit.request.path_params["token_id"]],
        reason=visit.value("reason"),
    )

    return visit.redirect("/tokens", done="revoked")


@page()
async def rotate(visit: Visit) -> Response:
    grace_text = visit.value("grace_hours") or "0"
    if not grace_text.isdigit() or int(grace_text) > 24 * 30:
        raise InvalidInputError("the grace period is 0 to 720 hours", field="grace")
    grace = dt.timedelta(hours=int(grace_text))
    issued = await visit.services.tokens.rotate(
        visit.person.actor,
        visit.origin,
        visit.request.path_params["token_id"],
        grace=grace or None,
    )

    return show_secret(visit, issued, rotated=True)


@page()
async def save_credential(visit: Visit) -> Response:
    actor = visit.person.actor
    scheme_text = visit.value("scheme")
    try:
        scheme = Scheme(scheme_text)
    except ValueError:
        raise InvalidInputError("choose bearer or basic", field="scheme") from None
    raw = visit.form.get("value")
    value = raw if isinstance(raw, str) else ""
    await visit.services.upstream_credentials.save(
        actor, visit.origin, actor.name, scheme, value
    )

    return visit.redirect("/tokens", done="credential_saved")


@page()
async def check_credential(visit: Visit) -> Response:
    actor = visit.person.actor
    await visit.services.upstream_credentials.check(actor, visit.origin, actor.name)

    return visit.redirect("/tokens", done="credential_checked")


@page()
async def remove_credential(visit: Visit) -> Response:
    actor = visit.person.actor
    await visit.services.upstream_credentials.remove(actor, visit.origin, actor.name)

    return visit.redirect("/tokens", done="credential_removed")


routes: list[BaseRoute] = [
    Route("/tokens", my_tokens, methods=["GET"]),
    Route("/tokens", create, methods=["POST"]),
    Route("/tokens/upstream", save_credential, methods=["POST"]),
    Route("/tokens/upstream/check", check_credential, methods=["POST"]),
    Route("/tokens/upstream/remove", remove_credential, methods=["POST"]),
    Route("/tokens/{token_id:str}", detail, methods=["GET"]),
    Route("/tokens/{token_id:str}/revoke", revoke, methods=["POST"]),
    Route("/tokens/{token_id:str}/rotate", rotate, methods=["POST"]),
]
