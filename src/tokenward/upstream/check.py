"""Trying an upstream credential before it is stored, and again on request.

One GET to the configured check URL with the credential as Authorization. Only a
2xx counts, and a 2xx is not enough on Atlassian Data Center: Jira serves
anonymous-readable resources to a failed login with 200, and says so only in its
headers (docs/credential-injection.md, "The check"). So an answer is refused when

- `X-Seraph-LoginReason` names a failure (`AUTHENTICATED_FAILED`,
  `AUTHENTICATION_DENIED`, `AUTHORISATION_FAILED`), even if `X-AUSERNAME` names a
  user: Jira still sends the attempted name on a denied login;
- `X-AUSERNAME` is `anonymous`, or a JSON body says the user is anonymous.

The upstream user it authenticated as comes from `X-AUSERNAME`, else from the body
(`name`, `username` or `slug` of a JSON object, or a one-word text/plain body).
Redirects are not followed: a login page is not a success.
"""

from __future__ import annotations

import enum
import json
import re
import ssl
from collections.abc import Mapping
from pathlib import Path

import httpx

from tokenward.config import Settings
from tokenward.logs import get_logger
from tokenward.upstream.errors import (
    UpstreamCredentialRejectedError,
    UpstreamNotConfiguredError,
    UpstreamUnavailableError,
)

log = get_logger(__name__)

# Enough for any "who am I" answer; the rest of a larger body is not read.
MAX_BODY_BYTES = 64 * 1024
FAILED_LOGIN_REASONS = frozenset(
    {"AUTHENTICATED_FAILED", "AUTHENTICATION_DENIED", "AUTHORISATION_FAILED"}
)
_NAME_FIELDS = ("name", "username", "slug")
_ONE_WORD = re.compile(r"[^\s\x00-\x1f\x7f]{1,255}")


class CheckFailure(enum.StrEnum):
    """Why a check refused a credential; stable, used as the audit reason."""

    STATUS = "upstream_status"
    LOGIN_FAILED = "login_failed"
    ANONYMOUS = "anonymous"
    DIFFERENT_USER = "different_user"
    UNIDENTIFIED = "unidentified"


def check_url(settings: Settings) -> str | None:
    """Where checks go: the check path on the upstream URL, or the path itself if it
    is a full URL; None if neither gives one."""
    path = settings.gate_upstream_check_path
    if path.startswith(("http://", "https://")):
        return path
    if not settings.gate_upstream_url:
        return None

    return settings.gate_upstream_url.rstrip("/") + path


def judge(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """The upstream user a check answer shows, None if it names none; raises
    UpstreamCredentialRejectedError if the answer does not prove a login.

    `headers` must look names up case-insensitively (as httpx.Headers does).
    """
    if not 200 <= status < 300:
        raise _rejected(
            CheckFailure.STATUS,
            f"the upstream answered HTTP {status} to the check request",
        )
    login_reason = (headers.get("x-seraph-loginreason") or "").strip().upper()
    if login_reason in FAILED_LOGIN_REASONS:
        raise _rejected(
            CheckFailure.LOGIN_FAILED,
            f"the upstream did not log the credential in "
            f"(X-Seraph-LoginReason: {login_reason})",
        )
    header_name = headers.get("x-ausername")
    if header_name is not None and _is_anonymous(header_name):
        raise _rejected(
            CheckFailure.ANONYMOUS,
            "the upstream served the check request anonymously (X-AUSERNAME)",
        )
    content_type = headers.get("content-type") or ""
    document = _json_object(body) if "json" in content_type else None
    if document is not None and (
        document.get("type") == "anonymous" or document.get("anonymous") is True
    ):
        raise _rejected(
            CheckFailure.ANONYMOUS,
            "the upstream answered the check request for an anonymous user",
        )

    return (
        _clean(header_name)
        or _name_in(document)
        or (_plain_name(body) if content_type.startswith("text/plain") else None)
    )


class UpstreamCheck:
    """Sends check requests; `same_user` also demands that the upstream names the
    credential's owner (the tokenward username, compared without case). An https
    upstream is verified against `ca_file` if given (as the reverse proxy does),
    else the system's trust store."""

    def __init__(
        self,
        url: str | None,
        *,
        timeout: float,
        same_user: bool = False,
        ca_file: Path | None = None,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._same_user = same_user
        self._ca_file = ca_file

    @classmethod
    def from_settings(cls, settings: Settings) -> UpstreamCheck:
        return cls(
            check_url(settings),
            timeout=settings.gate_upstream_check_timeout_seconds,
            same_user=settings.gate_upstream_same_user,
            ca_file=settings.gate_upstream_ca_file,
        )

    async def verify(self, authorization: str, *, owner: str) -> str | None:
        """Who the upstream says `authorization` is; raises if it is not accepted,
        UpstreamUnavailableError if no answer came."""
        if self.url is None:
            raise UpstreamNotConfiguredError
        status, headers, body = await self._ask(self.url, authorization)
        checked_as = judge(status, headers, body)
        if self._same_user and checked_as is None:
            raise _rejected(
                CheckFailure.UNIDENTIFIED,
                "the upstream's answer does not say who the credential belongs to, "
                "and this instance accepts only a user's own credential",
            )
        if (
            self._same_user
            and checked_as is not None
            and checked_as.casefold() != owner.casefold()
        ):
            raise _rejected(
                CheckFailure.DIFFERENT_USER,
                f"the credential belongs to the upstream user {checked_as!r}, "
                f"not {owner!r}",
            )

        return checked_as

    async def _ask(
        self, url: str, authorization: str
    ) -> tuple[int, httpx.Headers, bytes]:
        request_headers = {
            "Authorization": authorization,
            "Accept": "application/json, text/plain;q=0.9",
        }
        verify = self._tls_context()
        try:
            async with (
                httpx.AsyncClient(
                    timeout=self._timeout,
                    follow_redirects=False,
                    verify=verify,
                    # Straight to the upstream, as the reverse proxy goes: never
                    # through a proxy named in the environment, which would see
                    # the credential.
                    trust_env=False,
                ) as client,
                client.stream("GET", url, headers=request_headers) as response,
            ):
                body = await _read_capped(response)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # httpx's messages name the URL and the failure, never request headers.
            log.warning("upstream_check_unreachable", url=url, error=repr(error))
            raise UpstreamUnavailableError(
                f"the upstream did not answer the check request to {url}: "
                f"{type(error).__name__}: {error}"
            ) from None

        return response.status_code, response.headers, body

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(
                cafile=str(self._ca_file) if self._ca_file else None
            )
        except (OSError, ssl.SSLError) as error:
            raise UpstreamNotConfiguredError(
                f"TOKENWARD_GATE_UPSTREAM_CA_FILE cannot be used: {error}"
            ) from None


async def _read_capped(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) >= MAX_BODY_BYTES:
            break

    return bytes(body[:MAX_BODY_BYTES])


def _rejected(reason: CheckFailure, message: str) -> UpstreamCredentialRejectedError:
    return UpstreamCredentialRejectedError(
        f"{message}; the credential was not accepted", reason=str(reason)
    )


def _is_anonymous(name: str) -> bool:
    return name.strip().casefold() in ("", "anonymous")


def _clean(name: object) -> str | None:
    """A name fit to store and show: one word of printable characters, or None."""
    if not isinstance(name, str):
        return None
    name = name.strip()

    return name if _ONE_WORD.fullmatch(name) else None


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None

    return document if isinstance(document, dict) else None


def _name_in(document: dict[str, object] | None) -> str | None:
    if document is None:
        return None
    for field in _NAME_FIELDS:
        name = _clean(document.get(field))
        if name is not None:
            return name

    return None


def _plain_name(body: bytes) -> str | None:
    lines = body.decode("utf-8", errors="replace").strip().splitlines()

    return _clean(lines[0]) if len(lines) == 1 else None
