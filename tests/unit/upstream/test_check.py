"""Judging the upstream's answer to a credential check, as Jira, Confluence and
Bitbucket Data Center give it (G6)."""

from __future__ import annotations

import json

import httpx
import pytest

from tokenward.config import Settings
from tokenward.upstream.check import CheckFailure, check_url, judge
from tokenward.upstream.errors import UpstreamCredentialRejectedError

JSON = {"Content-Type": "application/json;charset=UTF-8"}


def headers(**values: str) -> httpx.Headers:
    return httpx.Headers({name.replace("_", "-"): v for name, v in values.items()})


def rejection(status: int, answer: httpx.Headers, body: bytes = b"") -> str:
    with pytest.raises(UpstreamCredentialRejectedError) as raised:
        judge(status, answer, body)

    return raised.value.reason


def test_jira_myself_names_the_user() -> None:
    """Jira's 200 with X-AUSERNAME is a login as that user."""
    answer = httpx.Headers(
        {**JSON, "X-AUSERNAME": "jdoe", "X-Seraph-LoginReason": "OK"}
    )
    body = json.dumps({"name": "jdoe", "key": "JIRAUSER10000"}).encode()

    assert judge(200, answer, body) == "jdoe"


@pytest.mark.parametrize("status", [401, 403, 404, 500, 302, 301])
def test_a_status_other_than_2xx_is_refused(status: int) -> None:
    """Anything but a 2xx is refused, redirects (to a login page) included."""
    assert rejection(status, headers()) == CheckFailure.STATUS


@pytest.mark.parametrize(
    "reason", ["AUTHENTICATED_FAILED", "AUTHENTICATION_DENIED", "AUTHORISATION_FAILED"]
)
def test_a_200_with_a_failed_login_reason_is_refused(reason: str) -> None:
    """Jira's 200 with a failed X-Seraph-LoginReason is refused, even though it
    still names the attempted user in X-AUSERNAME."""
    answer = headers(X_AUSERNAME="jdoe", X_Seraph_LoginReason=reason)

    assert rejection(200, answer) == CheckFailure.LOGIN_FAILED


@pytest.mark.parametrize("name", ["anonymous", "Anonymous", " "])
def test_a_200_for_anonymous_is_refused(name: str) -> None:
    """A 200 served to `anonymous` (or to no one) is refused."""
    assert rejection(200, headers(X_AUSERNAME=name)) == CheckFailure.ANONYMOUS


def test_a_json_anonymous_user_is_refused() -> None:
    """Confluence-style `"type": "anonymous"` in a 200 body is refused."""
    body = json.dumps({"type": "anonymous", "displayName": "Anonymous"}).encode()

    assert rejection(200, httpx.Headers(JSON), body) == CheckFailure.ANONYMOUS


def test_a_json_body_names_the_user_without_headers() -> None:
    """Without X-AUSERNAME, `username` of a JSON body names the user."""
    body = json.dumps({"type": "known", "username": "jdoe"}).encode()

    assert judge(200, httpx.Headers(JSON), body) == "jdoe"


def test_a_one_word_text_body_names_the_user() -> None:
    """Bitbucket's whoami answers the username as text/plain."""
    answer = httpx.Headers({"Content-Type": "text/plain;charset=UTF-8"})

    assert judge(200, answer, b"jdoe\n") == "jdoe"


def test_a_200_that_names_no_one_is_accepted_without_a_name() -> None:
    """A 2xx from an API that does not say who is accepted, with no name."""
    assert judge(204, httpx.Headers(), b"") is None
    assert (
        judge(200, httpx.Headers({"Content-Type": "text/html"}), b"<p>hi</p>") is None
    )


def test_names_unfit_to_show_are_ignored() -> None:
    """A name with spaces or control characters is not taken as a username."""
    body = json.dumps({"name": "two words\n"}).encode()

    assert judge(200, httpx.Headers(JSON), body) is None


def test_check_url_joins_the_path_to_the_upstream() -> None:
    """The check path is appended to the upstream URL, slashes merged."""
    settings = Settings(
        gate_upstream_url="http://jira.internal:8080/jira/",
        gate_upstream_check_path="/rest/api/2/myself",
    )

    assert check_url(settings) == "http://jira.internal:8080/jira/rest/api/2/myself"


def test_check_url_may_be_a_full_url() -> None:
    """A full URL as the check path is used as is, with or without an upstream."""
    settings = Settings(gate_upstream_check_path="https://jira.internal/rest/x")

    assert check_url(settings) == "https://jira.internal/rest/x"


def test_no_upstream_means_no_check_url() -> None:
    """Without an upstream URL a plain path gives nowhere to check."""
    settings = Settings(
        gate_upstream_url=None, gate_upstream_check_path="/rest/api/2/myself"
    )

    assert check_url(settings) is None


def test_a_check_path_must_be_a_path_or_url() -> None:
    """A check path that is neither /path nor http(s) URL is refused at start."""
    with pytest.raises(ValueError, match="must be a path"):
        Settings(gate_upstream_check_path="rest/api/2/myself")
