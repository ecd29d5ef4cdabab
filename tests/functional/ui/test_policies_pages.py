"""The policies pages: every change previewed with its impact, then saved."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import httpx

from tests.conftest import START
from tests.functional.ui.browser import WebClient
from tests.support import OPERATOR, LiveServer, Setup
from tokenward.policies.permissions import Permission
from tokenward.tokens.attributes import Tier

_CARRIED = re.compile(r'name="carried" value="([^"]*)"')


def _admin_web(server: LiveServer, setup: Setup) -> tuple[WebClient, str]:
    """A signed-in administrator's browser, and the administrator's API token."""
    token = setup.admin()
    web = WebClient(server.url)
    web.sign_in("admin", setup.password("admin"))

    return web, token


def _form(page: httpx.Response) -> dict[str, str]:
    """The fields of a policy form as the page fills them in (text, textareas,
    ticked boxes, selected options): what a browser would send unchanged."""
    text = page.text
    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name.group(1) == "csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        values[name.group(1)] = html.unescape(value.group(1) if value else "")
    for name, body in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', text, re.S
    ):
        values[name] = html.unescape(body)
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)">(.*?)</select>', text, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = chosen.group(1) if chosen else ""

    return values


def _carried(page: httpx.Response) -> str:
    found = _CARRIED.search(page.text)
    assert found is not None, page.text

    return html.unescape(found.group(1))


def _own_token(server: LiveServer, owner_token: str, **body: Any) -> dict[str, Any]:
    """A token the owner creates for themselves through the API."""
    with server.client(owner_token) as api:
        answer = api.post("/tokens", json={"label": "ci", **body})
    assert answer.status_code == 201, answer.text
    token: dict[str, Any] = answer.json()["token"]

    return token


def test_tightening_the_token_policy_shows_the_impact_and_shortens(
    server: LiveServer, setup: Setup
) -> None:
    """An administrator sets a 30-day maximum, sees bob's never-expiring token on
    the preview, applies with "shorten", and the token then ends within 30 days."""
    bob = setup.user("bob")
    token = _own_token(server, bob, never_expires=True)
    web, admin_token = _admin_web(server, setup)

    with web:
        form = _form(web.get("/policies/tokens"))
        assert form["tiers.self.max_days"] == ""
        form["tiers.self.max_days"] = "30"
        form["grace_days"] = "0"
        preview = web.post("/policies/tokens/preview", form)
        before_apply = setup.run(lambda c: c.token_policy.get(OPERATOR))
        applied = web.post(
            "/policies/tokens/apply",
            {"carried": _carried(preview), "action": "shorten"},
        )
        after = web.get(applied.headers["location"])

    assert preview.status_code == 200
    assert token["id"] in preview.text
    assert "bob" in preview.text
    assert "never_expires" in preview.text
    assert "If you shorten: 1 would be shortened" in preview.text
    assert before_apply.tiers[Tier.SELF].max_days is None  # the preview saved nothing
    assert applied.status_code == 303
    assert "were shortened" in after.text
    with server.client(admin_token) as api:
        stored = api.get(f"/manage/tokens/{token['id']}").json()
    expires = dt.datetime.fromisoformat(stored["expires_at"])
    assert START < expires <= START + dt.timedelta(days=30)
    assert stored["status"] == "active"


def test_a_change_that_breaks_no_token_is_saved_after_its_preview(
    server: LiveServer, setup: Setup
) -> None:
    """With no token breaking it, the preview says so and saving needs no action."""
    web, _ = _admin_web(server, setup)

    with web:
        form = _form(web.get("/policies/tokens"))
        form["max_active_tokens_per_user"] = "5"
        preview = web.post("/policies/tokens/preview", form)
        saved = web.post("/policies/tokens/apply", {"carried": _carried(preview)})

    assert "No active token breaks this policy" in preview.text
    assert 'name="action"' not in preview.text
    assert saved.status_code == 303
    stored = setup.run(lambda c: c.token_policy.get(OPERATOR))
    assert stored.max_active_tokens_per_user == 5


def test_breaking_tokens_need_a_chosen_action(server: LiveServer, setup: Setup) -> None:
    """Saving a policy that breaks tokens without choosing what to do with them
    shows the preview again and saves nothing."""
    _own_token(server, setup.user("bob"), never_expires=True)
    web, _ = _admin_web(server, setup)

    with web:
        form = _form(web.get("/policies/tokens"))
        form["tiers.self.max_days"] = "30"
        preview = web.post("/policies/tokens/preview", form)
        refused = web.post("/policies/tokens/apply", {"carried": _carried(preview)})

    assert refused.status_code == 422
    assert "keep, shorten or" in refused.text
    assert 'name="action"' in refused.text
    stored = setup.run(lambda c: c.token_policy.get(OPERATOR))
    assert stored.tiers[Tier.SELF].max_days is None


def test_invalid_values_and_json_come_back_with_the_error_and_the_text(
    server: LiveServer, setup: Setup
) -> None:
    """A bad number and malformed JSON are shown next to their fields, with what
    was typed kept, and nothing is saved."""
    web, _ = _admin_web(server, setup)
    broken_json = '{"ops": {"self": {"max_days": 365}'

    with web:
        form = _form(web.get("/policies/tokens"))
        form["tiers.self.max_days"] = "0"
        bad_number = web.post("/policies/tokens/preview", form)
        form["tiers.self.max_days"] = "30"
        form["group_overrides"] = broken_json
        bad_json = web.post("/policies/tokens/preview", form)
        gate = _form(web.get("/policies/gate"))
        gate["allowed_networks"] = "10.0.0.0/8\nnot-a-range"
        bad_range = web.post("/policies/gate/preview", gate)

    assert bad_number.status_code == 422
    assert "tiers.self.max_days: Input should be greater than or equal to 1" in (
        bad_number.text
    )
    assert 'id="tiers.self.max_days-error"' in bad_number.text
    assert _form(bad_number)["tiers.self.max_days"] == "0"
    assert bad_json.status_code == 422
    assert "group_overrides: not valid JSON" in bad_json.text
    assert _form(bad_json)["group_overrides"] == broken_json
    assert _form(bad_json)["tiers.self.max_days"] == "30"
    assert bad_range.status_code == 422
    assert "allowed_networks" in bad_range.text
    assert _form(bad_range)["allowed_networks"] == "10.0.0.0/8\nnot-a-range"
    stored = setup.run(lambda c: c.token_policy.get(OPERATOR))
    assert stored.tiers[Tier.SELF].max_days is None


def test_a_gate_policy_preview_names_tokens_outside_the_new_networks(
    server: LiveServer, setup: Setup
) -> None:
    """Narrowing the allowed networks lists the tokens whose own ranges fall
    outside; saving it puts the policy in force."""
    token = _own_token(server, setup.user("bob"), allowed_networks=["192.0.2.0/24"])
    web, admin_token = _admin_web(server, setup)

    with web:
        gate = _form(web.get("/policies/gate"))
        gate["allowed_networks"] = "127.0.0.0/8\n10.0.0.0/8"
        gate["passwords"] = "deny"
        gate["password_exempt_users"] = "jenkins"
        preview = web.post("/policies/gate/preview", gate)
        saved = web.post("/policies/gate/apply", {"carried": _carried(preview)})

    assert preview.status_code == 200
    assert token["id"] in preview.text
    assert "192.0.2.0/24" in preview.text
    assert "none left" in preview.text
    assert saved.status_code == 303
    with server.client(admin_token) as api:
        policy = api.get("/policies/gate").json()
    assert policy["allowed_networks"] == ["127.0.0.0/8", "10.0.0.0/8"]
    assert policy["passwords"] == "deny"
    assert policy["password_exempt_users"] == ["jenkins"]


def test_a_permission_change_shows_who_gains_it_before_it_is_saved(
    server: LiveServer, setup: Setup
) -> None:
    """Granting manage_tokens to a group names its members on the preview; the
    grant exists only after confirming."""
    setup.user("carol", groups=("helpdesk",))
    web, _ = _admin_web(server, setup)

    with web:
        form = _form(web.get("/policies/permissions"))
        form[f"{Permission.MANAGE_TOKENS}:helpdesk"] = "yes"
        preview = web.post("/policies/permissions/preview", form)
        unsaved = setup.run(lambda c: c.permissions.grants(OPERATOR))
        saved = web.post("/policies/permissions/apply", {"carried": _carried(preview)})

    assert preview.status_code == 200
    assert re.search(r"manage_tokens</th>.*?carol", preview.text, re.S)
    assert unsaved[Permission.MANAGE_TOKENS] == (False, [])
    assert saved.status_code == 303
    grants = setup.run(lambda c: c.permissions.grants(OPERATOR))
    assert grants[Permission.MANAGE_TOKENS] == (False, ["helpdesk"])


def test_administer_cannot_be_taken_from_everyone(
    server: LiveServer, setup: Setup
) -> None:
    """Unticking every holder of administer is refused before anything is saved."""
    web, _ = _admin_web(server, setup)

    with web:
        form = _form(web.get("/policies/permissions"))
        for name in [key for key in form if key.startswith("administer")]:
            del form[name]
        refused = web.post("/policies/permissions/preview", form)

    assert refused.status_code == 422
    assert "administer must be held" in refused.text


def test_notification_settings_are_previewed_and_saved(
    server: LiveServer, setup: Setup
) -> None:
    """Reminder days changed on the form show before and after, then are saved;
    a webhook's secret never appears in the preview's table."""
    web, _ = _admin_web(server, setup)
    secret = "a-webhook-secret-of-some-length"
    hooks = [{"name": "siem", "url": "https://siem.example/hook", "secret": secret}]

    with web:
        form = _form(web.get("/policies/notifications"))
        form["reminder_days"] = "14, 2"
        form["webhooks"] = json.dumps(hooks)
        preview = web.post("/policies/notifications/preview", form)
        saved = web.post(
            "/policies/notifications/apply", {"carried": _carried(preview)}
        )
        shown = web.get("/policies/notifications")

    table = preview.text.split('name="carried"')[0]
    assert "reminder_days" in table
    assert "14, 2" in table
    assert secret not in table
    assert saved.status_code == 303
    assert secret not in shown.text
    settings = setup.run(lambda c: c.notifications.get(OPERATOR))
    assert settings.reminder_days == (14, 2)
    assert settings.webhook("siem") is not None


def test_policies_are_for_administrators_only(server: LiveServer, setup: Setup) -> None:
    """A signed-in user without administer gets 403 on reading and on saving."""
    setup.admin()
    setup.user("bob")
    password = setup.password("bob")

    with WebClient(server.url) as web:
        web.sign_in("bob", password)
        pages = [web.get(path) for path in ("/policies", "/policies/tokens")]
        saving = web.post(
            "/policies/tokens/apply",
            {"carried": json.dumps({"tiers.self.max_days": "1", "grace_days": "0"})},
        )

    assert [page.status_code for page in pages] == [403, 403]
    assert saving.status_code == 403
    stored = setup.run(lambda c: c.token_policy.get(OPERATOR))
    assert stored.tiers[Tier.SELF].max_days is None
