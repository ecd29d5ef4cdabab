"""Settings of the web UI: sessions, cookies, sign-in, the examples it shows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    ui_api_url: str | None = Field(
        default=None,
        description=(
            "The address people call the protected API at, used in the examples "
            "shown with a new token; unset: the reverse proxy listener if there "
            "is one."
        ),
    )
    ui_session_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=1440,
        description="A web UI session ends after this many minutes without a page.",
    )
    ui_session_hours: int = Field(
        default=12,
        ge=1,
        le=720,
        description="A web UI session ends this many hours after sign-in, used or not.",
    )
    ui_secure_cookie: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "The session cookie's Secure flag: `auto` sets it when the page is "
            "served over HTTPS (directly, or by a trusted proxy saying so)."
        ),
    )
    ui_signin_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed sign-ins per user name, and per client address, within 15 "
            "minutes before further attempts are refused for 15 minutes."
        ),
    )
