"""What each notification says: the e-mail's subject and text, the webhook's JSON.

Both are made from the notification's stored facts when it is sent. Those facts
never include a secret (tokenward has none to give: a token's secret is shown once,
to whoever created it), and the texts add nothing but the facts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from tokenward.notify.events import Audience, NotificationEvent


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str


def webhook_body(
    notification_id: int | None, event: str, created_at: dt.datetime, data: Any
) -> bytes:
    """The JSON a webhook receives: compact, keys sorted, UTF-8."""
    document = {
        "id": None if notification_id is None else str(notification_id),
        "event": event,
        "created_at": created_at.astimezone(dt.UTC).isoformat(),
        "data": {key: value for key, value in data.items() if key != "audience"},
    }

    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def render(event: str, data: dict[str, Any]) -> Message:
    """The e-mail for `event` with the facts `data` (its audience among them)."""
    kind = NotificationEvent(event)
    if kind is NotificationEvent.TEST:
        return Message(
            "tokenward: test notification",
            "This is a test message from tokenward. Notifications reach you.\n",
        )
    if kind in (NotificationEvent.REQUEST_APPROVED, NotificationEvent.REQUEST_REJECTED):
        return _request_message(kind, data)
    audience = Audience(data.get("audience", Audience.OWNER))
    token = _token_lines(data)
    if kind is NotificationEvent.TOKEN_EXPIRING:
        whose = (
            "Your token" if audience is Audience.OWNER else f"{data['owner']}'s token"
        )
        days = int(data["days_left"])
        when = "in 1 day" if days == 1 else f"in {days} days"
        return Message(
            f"tokenward: {whose.lower() if audience is Audience.OWNER else whose} "
            f"{data['label']!r} expires {when}",
            f"{whose} {data['label']!r} expires {when}, at "
            f"{_time(data['expires_at'])}.\n\n{token}\n"
            "Create or rotate a replacement before then, and update the scripts and "
            "integrations that use it.\n",
        )
    if kind is NotificationEvent.TOKEN_CREATED_FOR_YOU:
        return Message(
            f"tokenward: {data['actor']} created a token {data['label']!r} for you",
            f"{data['actor']} created a token {data['label']!r} that acts as you.\n\n"
            f"{token}\nIf you did not expect it, revoke it and tell your "
            "administrators.\n",
        )
    if kind is NotificationEvent.TOKEN_REVOKED_FOR_YOU:
        reason = data.get("reason") or "no reason given"
        return Message(
            f"tokenward: {data['actor']} revoked your token {data['label']!r}",
            f"{data['actor']} revoked your token {data['label']!r} ({reason}).\n\n"
            f"{token}\nRequests made with it are refused from now on.\n",
        )
    return Message(
        f"tokenward: your token {data['label']!r} was used from {data['address']}",
        f"Your token {data['label']!r} was used from {data['address']}, an address "
        f"it had not been used from lately, at {_time(data['used_at'])}.\n\n{token}\n"
        "If that was not you or your integration, revoke the token now.\n",
    )


def _request_message(kind: NotificationEvent, data: dict[str, Any]) -> Message:
    """To the requester: their request's decision, and what to do next."""
    label = data["label"]
    lines = f"  Request id: {data['request_id']}\n  Label:      {label}\n"
    if kind is NotificationEvent.REQUEST_REJECTED:
        return Message(
            f"tokenward: your token request {label!r} was rejected",
            f"{data['decided_by']} rejected your token request {label!r}: "
            f"{data['reason']}\n\n{lines}",
        )
    days = data["lifetime_days"]
    networks = ", ".join(data["allowed_networks"] or []) or "any allowed"
    note = f"Note: {data['reason']}\n\n" if data.get("reason") else ""

    return Message(
        f"tokenward: your token request {label!r} was approved",
        f"{data['decided_by']} approved your token request {label!r}.\n\n{note}"
        f"{lines}  Scope:      {data['scope']}\n"
        f"  Lifetime:   {'never expires' if days is None else f'{days} days'}\n"
        f"  Networks:   {networks}\n\n"
        "Generate the token yourself before "
        f"{_time(data['generate_before'])}: POST /api/v1/requests/"
        f"{data['request_id']}/token. Its secret is shown to you once, and to no "
        "one else.\n",
    )


def _token_lines(data: dict[str, Any]) -> str:
    expires = data.get("expires_at")
    lines = [
        f"  Token id:   {data['token_id']}",
        f"  Label:      {data['label']}",
        f"  Owner:      {data['owner']}",
        f"  Scope:      {data['scope']}",
        f"  Expires at: {_time(expires) if expires else 'never'}",
    ]

    return "\n".join(lines) + "\n"


def _time(iso: str) -> str:
    moment = dt.datetime.fromisoformat(iso).astimezone(dt.UTC)

    return moment.strftime("%Y-%m-%d %H:%M UTC")
