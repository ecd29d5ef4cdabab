"""`tokenward request list|approve|reject` against a real database."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Cli
from tests.support import ORIGIN, Setup
from tokenward.container import Container
from tokenward.directory.services import find_user
from tokenward.policies.permissions import Actor, Permission
from tokenward.policies.services import actor_for
from tokenward.requests.models import TokenRequest
from tokenward.requests.rules import RequestSpec


@pytest.fixture
def asker(services: Setup) -> Actor:
    """alice, who may hold tokens but not create them."""
    services.user("alice")
    services.user("root", groups=("admins",))
    services.grant(Permission.CREATE_OWN_TOKENS, groups=["admins"])

    async def work(container: Container) -> Actor:
        async with container.db.read() as session:
            return await actor_for(session, await find_user(session, "alice"))

    return services.run(work)


def ask(services: Setup, actor: Actor, label: str) -> TokenRequest:
    spec = RequestSpec(
        label=label,
        reason="nightly sync",
        lifetime_days=30,
        allowed_networks=["10.0.0.0/8"],
    )

    return services.run(lambda c: c.token_requests.create(actor, ORIGIN, spec))


def test_list_approve_reject(cli: Cli, services: Setup, asker: Actor) -> None:
    """The queue lists pending requests; approve narrows, reject records the reason,
    and both are audited as the operator."""
    first = ask(services, asker, "jira")
    second = ask(services, asker, "wiki")

    listed = cli("request", "list")
    approved = cli(
        "request", "approve", first.id, "--scope", "read-only",
        "--lifetime-days", "7", "--network", "10.1.0.0/16", "--json",
    )  # fmt: skip
    rejected = cli("request", "reject", second.id, "--reason", "use jira")
    after = cli("request", "list", "--all", "--json")

    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "REQUESTER", "LABEL"]
    assert {line.split()[0] for line in lines[1:]} == {first.id, second.id}
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["approved"] == {
        "scope": "read-only",
        "lifetime_days": 7,
        "allowed_networks": ["10.1.0.0/16"],
    }
    assert rejected.exit_code == 0, rejected.output
    assert f"request {second.id} of alice is rejected" in rejected.stdout
    statuses = {i["id"]: i["status"] for i in json.loads(after.stdout)["items"]}
    assert statuses == {first.id: "approved", second.id: "rejected"}
    decided = [
        (record.event, record.actor)
        for record in services.audit_trail()
        if record.event in ("token_request_approved", "token_request_rejected")
    ]
    assert decided == [
        ("token_request_approved", "cli"),
        ("token_request_rejected", "cli"),
    ]


def test_refusals_are_one_line(cli: Cli, services: Setup, asker: Actor) -> None:
    """Widening, a missing reason and an unknown id fail with one line, exit 1."""
    request = ask(services, asker, "jira")

    wider = cli("request", "approve", request.id, "--never-expires")
    blank = cli("request", "reject", request.id, "--reason", " ")
    unknown = cli("request", "approve", "ffffffffffffffff")

    for result, words in (
        (wider, "not lengthen it"),
        (blank, "a reason is required"),
        (unknown, "not found"),
    ):
        assert result.exit_code == 1, result.output
        assert words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
