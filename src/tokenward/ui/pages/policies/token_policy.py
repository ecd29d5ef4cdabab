"""The token policy as a form: lifetime tiers, group overrides, the limits, and
what happens to the tokens a stricter policy breaks (SPEC P3-P5)."""

from __future__ import annotations

import json
from typing import Any

from tokenward.errors import ConflictError
from tokenward.policies.governance import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS, Action
from tokenward.policies.token_policy import TokenPolicyDocument
from tokenward.tokens.attributes import Tier
from tokenward.ui.pages.base import Visit
from tokenward.ui.pages.policies.forms import (
    SHOWN_TOKENS,
    YES,
    FormInvalidError,
    Part,
    Values,
    changes,
    json_field,
    number,
    validated,
)

_NEVER_EXPIRES = {None: "", True: "yes", False: "no"}


class TokenPolicy(Part[tuple[TokenPolicyDocument, int]]):
    slug = "tokens"
    title = "Token policy"
    summary = (
        "Lifetime tiers and group overrides, forced read-only, tokens per user, "
        "inactivity."
    )

    async def current(self, visit: Visit) -> Values:
        document = await visit.services.token_policy.get(visit.person.actor)
        values: Values = {}
        for tier, rule in document.tiers.items():
            values[f"tiers.{tier}.max_days"] = _text(rule.max_days)
            values[f"tiers.{tier}.default_days"] = _text(rule.default_days)
            values[f"tiers.{tier}.never_expires"] = _NEVER_EXPIRES[rule.never_expires]
        overrides = document.model_dump(mode="json")["group_overrides"]
        values["group_overrides"] = json.dumps(overrides, indent=2) if overrides else ""
        if document.force_read_only_for_self:
            values["force_read_only_for_self"] = YES
        values["max_active_tokens_per_user"] = _text(
            document.max_active_tokens_per_user
        )
        values["inactivity_days"] = _text(document.inactivity_days)
        values["grace_days"] = str(DEFAULT_GRACE_DAYS)

        return values

    async def form_context(self, visit: Visit) -> dict[str, Any]:
        return {"tiers": list(Tier), "max_grace": MAX_GRACE_DAYS}

    def parse(self, values: Values) -> tuple[TokenPolicyDocument, int]:
        never = {"": None, "yes": True, "no": False}
        raw = {
            "tiers": {
                str(tier): {
                    "max_days": number(values, f"tiers.{tier}.max_days"),
                    "default_days": number(values, f"tiers.{tier}.default_days"),
                    "never_expires": never.get(
                        values.get(f"tiers.{tier}.never_expires", "")
                    ),
                }
                for tier in Tier
            },
            "group_overrides": json_field(values, "group_overrides", {}),
            "force_read_only_for_self": values.get("force_read_only_for_self") == YES,
            "max_active_tokens_per_user": number(values, "max_active_tokens_per_user"),
            "inactivity_days": number(values, "inactivity_days"),
        }
        document = validated(TokenPolicyDocument, raw, values)
        grace = values.get("grace_days", "").strip()
        if not grace.isdigit() or int(grace) > MAX_GRACE_DAYS:
            raise FormInvalidError(
                {"grace_days": f"grace days is a whole number 0-{MAX_GRACE_DAYS}"}
            )

        return document, int(grace)

    async def preview(
        self, visit: Visit, change: tuple[TokenPolicyDocument, int]
    ) -> dict[str, Any]:
        document, grace = change
        service = visit.services.token_policy
        actor = visit.person.actor
        before = await service.get(actor)
        impact = await service.impact(actor, document, grace_days=grace)
        acted_on = impact.acted_on()

        return {
            "settings": changes(
                before.model_dump(mode="json"), document.model_dump(mode="json")
            ),
            "impact": impact,
            "shown": impact.tokens[:SHOWN_TOKENS],
            "owners": len(impact.by_owner()),
            "would_shorten": sum(1 for t in acted_on if t.shortened_expiry is not None),
            "would_revoke": len(acted_on),
            "left_alone": len(impact.tokens) - len(acted_on),
            "grace_days": grace,
            "actions": list(Action),
        }

    async def save(
        self, visit: Visit, change: tuple[TokenPolicyDocument, int], choice: str
    ) -> str:
        document, grace = change
        service = visit.services.token_policy
        if not choice:
            # The preview found no breaking token; if some appeared since, the
            # service refuses and the preview is shown again with them.
            try:
                await service.replace(visit.person.actor, visit.origin, document)
            except ConflictError as error:
                raise FormInvalidError({"action": error.message}) from None
            return "saved"
        try:
            action = Action(choice)
        except ValueError:
            raise FormInvalidError(
                {"action": "choose keep, shorten or revoke for the breaking tokens"}
            ) from None
        await service.apply(
            visit.person.actor, visit.origin, document, action, grace_days=grace
        )

        return {Action.KEEP: "kept", Action.SHORTEN: "shortened"}.get(action, "revoked")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
