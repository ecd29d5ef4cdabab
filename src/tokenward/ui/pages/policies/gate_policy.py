"""The gate policy as a form: networks, the password rule and its exemptions,
read-only presets and rules, token-only paths (SPEC G3, G4, T4, P6)."""

from __future__ import annotations

import json
from typing import Any

from tokenward.policies.documents import ALL_PRESETS, GatePolicyDocument
from tokenward.ui.pages.base import Visit
from tokenward.ui.pages.policies.forms import (
    SHOWN_TOKENS,
    YES,
    Part,
    Values,
    changes,
    json_field,
    lines,
    validated,
)


class GatePolicy(Part[GatePolicyDocument]):
    slug = "gate"
    title = "Gate policy"
    summary = (
        "Networks, the password rule and its exemptions, read-only presets and "
        "rules, token-only paths."
    )
    list_fields = (
        "allowed_networks",
        "password_exempt_users",
        "password_exempt_groups",
        "password_exempt_paths",
        "password_exempt_networks",
        "token_only_paths",
    )

    async def current(self, visit: Visit) -> Values:
        document = await visit.services.gate_policy.get(visit.person.actor)
        dumped = document.model_dump(mode="json")
        values = {name: "\n".join(dumped[name]) for name in self.list_fields}
        values["passwords"] = document.passwords
        values.update(
            {f"read_only_presets.{p}": YES for p in document.read_only_presets}
        )
        rules = dumped["read_only_rules"]
        values["read_only_rules"] = json.dumps(rules, indent=2) if rules else ""

        return values

    async def form_context(self, visit: Visit) -> dict[str, Any]:
        return {"presets": ALL_PRESETS}

    def parse(self, values: Values) -> GatePolicyDocument:
        raw: dict[str, Any] = {name: lines(values, name) for name in self.list_fields}
        raw["passwords"] = values.get("passwords", "")
        raw["read_only_presets"] = [
            preset
            for preset in ALL_PRESETS
            if values.get(f"read_only_presets.{preset}") == YES
        ]
        raw["read_only_rules"] = json_field(values, "read_only_rules", [])
        document: GatePolicyDocument = validated(GatePolicyDocument, raw, values)

        return document

    async def preview(self, visit: Visit, change: GatePolicyDocument) -> dict[str, Any]:
        actor = visit.person.actor
        before = await visit.services.gate_policy.get(actor)
        impact = await visit.services.token_policy.gate_impact(actor, change)

        return {
            "settings": changes(
                before.model_dump(mode="json"), change.model_dump(mode="json")
            ),
            "impact": impact,
            "shown": impact.tokens[:SHOWN_TOKENS],
            "owners": len(impact.by_owner()),
            "stranded": sum(1 for token in impact.tokens if token.stranded),
        }

    async def save(self, visit: Visit, change: GatePolicyDocument, choice: str) -> str:
        await visit.services.gate_policy.replace(
            visit.person.actor, visit.origin, change
        )

        return "saved"
