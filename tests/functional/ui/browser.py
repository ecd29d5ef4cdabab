"""A plain HTTP client that behaves like a browser toward the web UI: keeps the
session cookie, and sends the CSRF token that each page carries."""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10, follow_redirects=False)
        self.csrf: str | None = None

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = self.http.get(path, **kwargs)
        found = _CSRF.search(answer.text)
        if found:
            self.csrf = found.group(1)
        return answer

    def post(
        self, path: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST a form with the CSRF token last seen on a page (unless given)."""
        form = dict(data or {})
        if self.csrf is not None:
            form.setdefault("csrf_token", self.csrf)
        return self.http.post(path, data=form, **kwargs)

    def sign_in(self, username: str, password: str) -> httpx.Response:
        self.get("/signin")
        answer = self.post("/signin", {"username": username, "password": password})
        if answer.status_code == 303:
            self.csrf = None
            self.get(answer.headers["location"], follow_redirects=True)
        return answer
