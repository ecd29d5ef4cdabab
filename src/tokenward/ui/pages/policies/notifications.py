"""Notification settings as a form: e-mail, signed webhooks, expiry reminders and
new-address alerts (SPEC P8)."""

from __future__ import annotations

import json
from typing import Any

from tokenward.notify.documents import NotificationSettingsIn
from tokenward.notify.events import NotificationEvent
from tokenward.ui.pages.base import Visit
from tokenward.ui.pages.policies.forms import (
    YES,
    Part,
    Values,
    changes,
    json_field,
    validated,
)


class Notifications(Part[NotificationSettingsIn]):
    slug = "notifications"
    title = "Notifications"
    summary = "E-mail, signed webhooks, expiry reminders, new-address alerts."

    async def current(self, visit: Visit) -> Values:
        settings = await visit.services.notifications.get(visit.person.actor)
        document = settings.as_input()
        webhooks = document.model_dump(mode="json", exclude_none=True)["webhooks"]
        values: Values = {
            "reminder_days": ", ".join(str(day) for day in document.reminder_days),
            "reminder_group": document.reminder_group or "",
            "webhooks": json.dumps(webhooks, indent=2) if webhooks else "",
        }
        for name in ("email", "new_address_alerts"):
            if getattr(document, name):
                values[name] = YES

        return values

    async def form_context(self, visit: Visit) -> dict[str, Any]:
        return {"events": list(NotificationEvent)}

    def parse(self, values: Values) -> NotificationSettingsIn:
        days = values.get("reminder_days", "").replace(",", " ").split()
        raw = {
            "email": values.get("email") == YES,
            "webhooks": json_field(values, "webhooks", []),
            "reminder_days": days,
            "reminder_group": values.get("reminder_group", "").strip() or None,
            "new_address_alerts": values.get("new_address_alerts") == YES,
        }
        document: NotificationSettingsIn = validated(
            NotificationSettingsIn, raw, values
        )

        return document

    async def preview(
        self, visit: Visit, change: NotificationSettingsIn
    ) -> dict[str, Any]:
        before = await visit.services.notifications.get(visit.person.actor)
        # Secrets show as asterisks: a changed secret is listed, never its value.
        after = change.model_dump(mode="json", exclude_none=True)

        return {
            "settings": changes(
                before.as_input().model_dump(mode="json", exclude_none=True), after
            ),
            "impact": None,
        }

    async def save(
        self, visit: Visit, change: NotificationSettingsIn, choice: str
    ) -> str:
        await visit.services.notifications.replace(
            visit.person.actor, visit.origin, change
        )

        return "saved"
