"""The token policy through the REST API: read, replaced whole, validated, audited,
and enforced when tokens are created and rotated (SPEC P3, P5, P6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.conftest import START
from tests.support import LiveServer, Setup
from tokenward.container import Container
from tokenward.gate.changes import current
from tokenward.policies.permissions import Permission

DEFAULT_TIER = {"max_days": None, "default_days": None, "never_expires": None}


def save(api: httpx.Client, **policy: Any) -> dict[str, Any]:
    """Save a token policy, keeping whatever tokens it breaks."""
    answer = api.post(
        "/policies/tokens/apply", json={"policy": policy, "action": "keep"}
    )
    assert answer.status_code == 200, answer.text
    applied: dict[str, Any] = answer.json()

    return applied


def create(api: httpx.Client, **body: Any) -> httpx.Response:
    """Ask for a token for oneself, labelled "jira" unless told otherwise."""
    return api.post("/tokens", json={"label": "jira", **body})


def refusal(answer: httpx.Response) -> tuple[str, str | None]:
    """The message and field of a 422 answer."""
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]

    return error["message"], error.get("field")


def expiry(answer: httpx.Response) -> dt.datetime | None:
    assert answer.status_code == 201, answer.text
    value = answer.json()["token"]["expires_at"]

    return None if value is None else dt.datetime.fromisoformat(value)


def change_counter(setup: Setup) -> int:
    async def work(container: Container) -> int:
        async with container.db.read() as session:
            return await current(session)

    return setup.run(work)


@pytest.fixture
def manager(setup: Setup) -> str:
    """A token of `manager`, who may manage tokens."""
    token = setup.user("manager", groups=("token-managers",))
    setup.grant(Permission.MANAGE_TOKENS, groups=["token-managers"])

    return token


def test_defaults_keep_todays_behaviour(server: LiveServer, setup: Setup) -> None:
    """Until one is saved, the policy limits nothing: no maximum, the instance's
    default lifetime, never-expiring tokens allowed, no scope, count or inactivity."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.get("/policies/tokens")
        never = create(api, never_expires=True)
        default = create(api)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "tiers": {
            "self": DEFAULT_TIER,
            "manager": DEFAULT_TIER,
            "request": DEFAULT_TIER,
        },
        "group_overrides": {},
        "force_read_only_for_self": False,
        "max_active_tokens_per_user": None,
        "inactivity_days": None,
    }
    assert expiry(never) is None
    assert expiry(default) == START + dt.timedelta(days=90)
    assert default.json()["token"]["scope"] == "read-write"


def test_replace_read_back_and_audit(server: LiveServer, setup: Setup) -> None:
    """A saved policy is answered back normalised, audited with before and after,
    and bumps the gate's change counter."""
    admin = setup.admin()
    setup.user("alice", groups=("integrations",))
    policy = {
        "tiers": {"self": {"max_days": 90, "default_days": 30}},
        "group_overrides": {"integrations": {"manager": {"max_days": 730}}},
        "max_active_tokens_per_user": 10,
    }
    counter = change_counter(setup)

    with server.client(admin) as api:
        saved = api.put("/policies/tokens", json=policy)
        read = api.get("/policies/tokens")

    expected = {
        "tiers": {
            "self": {"max_days": 90, "default_days": 30, "never_expires": None},
            "manager": DEFAULT_TIER,
            "request": DEFAULT_TIER,
        },
        "group_overrides": {
            "integrations": {
                "manager": {
                    "max_days": 730,
                    "default_days": None,
                    "never_expires": None,
                }
            }
        },
        "force_read_only_for_self": False,
        "max_active_tokens_per_user": 10,
        "inactivity_days": None,
    }
    assert saved.status_code == 200, saved.text
    assert saved.json() == expected
    assert read.json() == expected
    [change] = [r for r in setup.audit_trail() if r.event == "policy_changed"]
    assert change.actor == "admin"
    assert change.details["policy"] == "tokens"
    assert change.details["before"]["tiers"]["self"] == DEFAULT_TIER
    assert change.details["after"] == expected
    assert (change.method, change.path) == ("PUT", "/api/v1/policies/tokens")
    assert change_counter(setup) > counter


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"tiers": {"self": {"max_days": 0}}}, "tiers.self.max_days", "greater"),
        ({"tiers": {"self": {"max_days": 3651}}}, "tiers.self.max_days", "3650"),
        (
            {"tiers": {"self": {"max_days": 30, "default_days": 31}}},
            "tiers.self",
            "default_days (31) exceeds max_days (30)",
        ),
        ({"tiers": {"robots": {}}}, "tiers.robots.[key]", "self"),
        ({"group_overrides": {"x": {}}}, "group_overrides", "overrides no tier"),
        ({"max_active_tokens_per_user": 0}, "max_active_tokens_per_user", "greater"),
        ({"inactivity_days": -1}, "inactivity_days", "greater"),
        ({"lifetimes": {}}, "lifetimes", "Extra inputs"),
        (
            {"group_overrides": {"nobody-here": {"self": {"max_days": 5}}}},
            "group_overrides",
            "do not exist: nobody-here",
        ),
    ],
)
def test_invalid_policy_saves_nothing(
    server: LiveServer, setup: Setup, body: dict[str, Any], field: str, words: str
) -> None:
    """An invalid policy is refused with 422 naming the field, and nothing is saved."""
    admin = setup.admin()

    with server.client(admin) as api:
        answer = api.put("/policies/tokens", json=body)
        read = api.get("/policies/tokens").json()

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert field in (error.get("field") or error["message"])
    assert words in error["message"]
    assert read["tiers"]["self"] == DEFAULT_TIER
    assert not [r for r in setup.audit_trail() if r.event == "policy_changed"]


def test_only_administrators(server: LiveServer, setup: Setup) -> None:
    """Reading, judging and changing the token policy need `administer`."""
    setup.admin()
    alice = setup.user("alice")

    with server.client(alice) as api:
        answers = [
            api.get("/policies/tokens"),
            api.put("/policies/tokens", json={}),
            api.post("/policies/tokens/impact", json={}),
            api.post("/policies/tokens/apply", json={"policy": {}, "action": "keep"}),
            api.post("/policies/tokens/expire-inactive"),
            api.post("/policies/gate/impact", json={}),
        ]

    assert [answer.status_code for answer in answers] == [403] * 6


def test_self_tier_maximum_and_default(server: LiveServer, setup: Setup) -> None:
    """A self-created token gets the tier's default, may live up to its maximum,
    and beyond it is refused with a message stating the limit."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(admin) as api:
        save(api, tiers={"self": {"max_days": 90, "default_days": 30}})

    with server.client(alice) as api:
        default = create(api)
        longest = create(api, expires_in_days=90)
        too_long = create(api, expires_in_days=91)
        too_late = create(
            api, expires_at=(START + dt.timedelta(days=90, seconds=1)).isoformat()
        )
        never = create(api, never_expires=True)

    assert expiry(default) == START + dt.timedelta(days=30)
    assert expiry(longest) == START + dt.timedelta(days=90)
    assert refusal(too_long) == (
        "tokens you create for yourself live at most 90 days",
        "expires_in_days",
    )
    assert refusal(too_late) == (
        "tokens you create for yourself live at most 90 days",
        "expires_at",
    )
    assert refusal(never) == (
        "tokens you create for yourself must expire: they live at most 90 days",
        "never_expires",
    )


def test_default_is_capped_by_the_maximum(server: LiveServer, setup: Setup) -> None:
    """Without a default of its own, a tier gives the instance's default lifetime
    (90 days), shortened to the tier's maximum if that is less."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(admin) as api:
        save(api, tiers={"self": {"max_days": 14}})

    with server.client(alice) as api:
        answer = create(api)

    assert expiry(answer) == START + dt.timedelta(days=14)


def test_manager_tier(server: LiveServer, setup: Setup, manager: str) -> None:
    """Tokens a token manager creates for someone follow the manager tier, not the
    self tier; never-expiring ones are allowed where the tier allows them."""
    admin = setup.admin()
    setup.user("alice")
    with server.client(admin) as api:
        save(
            api,
            tiers={
                "self": {"max_days": 30},
                "manager": {"max_days": 180, "default_days": 60, "never_expires": True},
            },
        )

    with server.client(manager) as api:

        def for_alice(**body: Any) -> httpx.Response:
            return api.post(
                "/manage/tokens", json={"owner": "alice", "label": "ci", **body}
            )

        default = for_alice()
        long = for_alice(expires_in_days=180)
        too_long = for_alice(expires_in_days=181)
        never = for_alice(never_expires=True)

    assert expiry(default) == START + dt.timedelta(days=60)
    assert default.json()["token"]["tier"] == "manager"
    assert expiry(long) == START + dt.timedelta(days=180)
    assert refusal(too_long) == (
        "tokens a token manager creates for someone live at most 180 days",
        "expires_in_days",
    )
    assert expiry(never) is None


def test_group_override_applies_to_members_only(
    server: LiveServer, setup: Setup
) -> None:
    """A group's override replaces the tier's rule for its members, more generous
    or stricter; other users keep the tier's rule."""
    admin = setup.admin()
    alice = setup.user("alice", groups=("integrations",))
    bob = setup.user("bob")
    carol = setup.user("carol", groups=("contractors",))
    with server.client(admin) as api:
        save(
            api,
            tiers={"self": {"max_days": 90}},
            group_overrides={
                "integrations": {"self": {"max_days": 365}},
                "contractors": {"self": {"max_days": 7}},
            },
        )

    with server.client(alice) as api:
        alice_year = create(api, expires_in_days=365)
        alice_more = create(api, expires_in_days=366)
    with server.client(bob) as api:
        bob_year = create(api, expires_in_days=365)
    with server.client(carol) as api:
        carol_month = create(api, expires_in_days=30)
        carol_default = create(api)

    assert expiry(alice_year) == START + dt.timedelta(days=365)
    assert refusal(alice_more)[0] == (
        "tokens you create for yourself live at most 365 days "
        "(the limit for members of integrations)"
    )
    assert refusal(bob_year)[0] == "tokens you create for yourself live at most 90 days"
    assert refusal(carol_month)[0] == (
        "tokens you create for yourself live at most 7 days "
        "(the limit for members of contractors)"
    )
    assert expiry(carol_default) == START + dt.timedelta(days=7)


def test_most_generous_group_applies(server: LiveServer, setup: Setup) -> None:
    """A member of several overriding groups gets the longest maximum and default
    among them, and never-expiring tokens if any of them allows it."""
    admin = setup.admin()
    alice = setup.user("alice", groups=("a", "b", "c"))
    with server.client(admin) as api:
        save(
            api,
            tiers={"self": {"max_days": 10}},
            group_overrides={
                "a": {"self": {"max_days": 30, "default_days": 20}},
                "b": {"self": {"max_days": 60, "default_days": 5}},
                "c": {"self": {"max_days": 45, "never_expires": True}},
            },
        )

    with server.client(alice) as api:
        default = create(api)
        sixty = create(api, expires_in_days=60)
        more = create(api, expires_in_days=61)
        never = create(api, never_expires=True)

    assert expiry(default) == START + dt.timedelta(days=45)
    assert expiry(sixty) == START + dt.timedelta(days=60)
    assert refusal(more)[0] == (
        "tokens you create for yourself live at most 60 days "
        "(the limit for members of a, b, c)"
    )
    assert expiry(never) is None


def test_an_override_of_another_tier_does_not_apply(
    server: LiveServer, setup: Setup
) -> None:
    """An override of the manager tier leaves a member's own tokens to the self
    tier."""
    admin = setup.admin()
    alice = setup.user("alice", groups=("integrations",))
    with server.client(admin) as api:
        save(
            api,
            tiers={"self": {"max_days": 30}},
            group_overrides={"integrations": {"manager": {"max_days": 365}}},
        )

    with server.client(alice) as api:
        answer = create(api, expires_in_days=31)

    assert refusal(answer)[0] == "tokens you create for yourself live at most 30 days"


def test_never_expiring_refused_without_a_maximum(
    server: LiveServer, setup: Setup
) -> None:
    """A tier that must expire but has no maximum refuses never-expiring tokens and
    accepts any finite lifetime."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(admin) as api:
        save(api, tiers={"self": {"never_expires": False}})

    with server.client(alice) as api:
        never = create(api, never_expires=True)
        long = create(api, expires_in_days=3000)

    assert refusal(never) == (
        "tokens you create for yourself must expire; name an expiry, or leave it "
        "out for the default of 90 days",
        "never_expires",
    )
    assert expiry(long) == START + dt.timedelta(days=3000)


def test_forced_read_only(server: LiveServer, setup: Setup, manager: str) -> None:
    """With read-only forced, a self-created token without a scope is read-only,
    an explicit read-write one is refused, and token managers are not bound."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(admin) as api:
        save(api, force_read_only_for_self=True)

    with server.client(alice) as api:
        default = create(api)
        read_only = create(api, scope="read-only")
        read_write = create(api, scope="read-write")
    with server.client(manager) as api:
        managed = api.post(
            "/manage/tokens",
            json={"owner": "alice", "label": "ci", "scope": "read-write"},
        )

    assert default.status_code == 201, default.text
    assert default.json()["token"]["scope"] == "read-only"
    assert read_only.json()["token"]["scope"] == "read-only"
    assert refusal(read_write) == (
        "tokens you create for yourself must be read-only: the token policy forces it",
        "scope",
    )
    assert managed.status_code == 201, managed.text
    assert managed.json()["token"]["scope"] == "read-write"


def test_active_tokens_per_user(server: LiveServer, setup: Setup, manager: str) -> None:
    """A user holds at most the policy's number of active tokens, however they are
    created; revoked and expired tokens do not count."""
    admin = setup.admin()
    alice = setup.user("alice")  # her first active token
    setup.issue("alice", label="short", expires_in_days=1)
    with server.client(admin) as api:
        save(api, max_active_tokens_per_user=3)

    with server.client(alice) as api:
        third = create(api)
        fourth = create(api)
    with server.client(manager) as api:
        managed = api.post("/manage/tokens", json={"owner": "alice", "label": "ci"})
    setup.clock.advance(dt.timedelta(days=1))  # `short` expires
    with server.client(alice) as api:
        after_expiry = create(api)
        revoked = api.post(f"/tokens/{third.json()['token']['id']}/revoke")
        after_revocation = create(api)

    assert third.status_code == 201, third.text
    assert refusal(fourth) == (
        "you already hold 3 active tokens, the most the token policy allows one "
        "user (3); revoke one first",
        "owner",
    )
    assert refusal(managed)[0].startswith("alice already holds 3 active tokens")
    assert after_expiry.status_code == 201, after_expiry.text
    assert revoked.status_code == 200
    assert after_revocation.status_code == 201, after_revocation.text


def test_token_ranges_must_lie_within_the_gate_networks(
    server: LiveServer, setup: Setup
) -> None:
    """With global allowed networks, a token's own ranges must lie within them;
    the refusal names the ranges outside (SPEC P6)."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(admin) as api:
        gate = api.put(
            "/policies/gate",
            json={"allowed_networks": ["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"]},
        )
    assert gate.status_code == 200, gate.text

    with server.client(alice) as api:
        inside = create(api, allowed_networks=["10.1.0.0/16", "2001:db8:1::/48"])
        outside = create(api, allowed_networks=["10.0.0.0/16", "192.168.0.0/24"])
        wider = create(api, allowed_networks=["10.0.0.0/7"])
        v6 = create(api, allowed_networks=["2001:db9::/32"])

    assert inside.status_code == 201, inside.text
    assert refusal(outside) == (
        "192.168.0.0/24 is not within the networks the gate policy allows "
        "(127.0.0.0/8, 10.0.0.0/8, 2001:db8::/32)",
        "allowed_networks",
    )
    assert refusal(wider)[0].startswith("10.0.0.0/7 is not within")
    assert refusal(v6)[0].startswith("2001:db9::/32 is not within")


def test_any_ranges_without_gate_networks(server: LiveServer, setup: Setup) -> None:
    """Without global allowed networks a token may name any ranges."""
    setup.admin()
    alice = setup.user("alice")

    with server.client(alice) as api:
        answer = create(api, allowed_networks=["192.168.0.0/24", "::/0"])

    assert answer.status_code == 201, answer.text


def test_rotation_is_held_to_the_policy_in_force(
    server: LiveServer, setup: Setup
) -> None:
    """A token that breaks the policy in force cannot be rotated as it is; one that
    conforms can, and the count does not stop a rotation."""
    admin = setup.admin()
    alice = setup.user("alice")
    with server.client(alice) as api:
        long = create(api, expires_in_days=200).json()["token"]
        short = create(api, expires_in_days=20).json()["token"]
    with server.client(admin) as api:
        save(api, tiers={"self": {"max_days": 90}}, max_active_tokens_per_user=3)

    with server.client(alice) as api:
        refused = api.post(f"/tokens/{long['id']}/rotate")
        rotated = api.post(f"/tokens/{short['id']}/rotate")

    assert refusal(refused) == (
        f"token '{long['id']}' cannot be rotated as it is: tokens you create for "
        "yourself live at most 90 days. Create a new token instead",
        "token_id",
    )
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["token"]["expires_at"] == short["expires_at"]
