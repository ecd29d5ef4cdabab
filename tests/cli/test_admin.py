"""`tokenward admin bootstrap`: the first administrator."""

from __future__ import annotations

import re

from tests.cli.conftest import Cli
from tests.support import OPERATOR, Setup
from tokenward.directory.passwords import verify_password
from tokenward.policies.bootstrap import ADMIN_GROUP

PASSWORD_LINE = re.compile(r"^    (\S+)$", re.MULTILINE)


def password_hash(services: Setup, username: str) -> str:
    user = services.run(lambda c: c.directory.get_user(OPERATOR, username))
    assert user.password_hash is not None

    return user.password_hash


def test_bootstrap_prints_the_password_once(cli: Cli, services: Setup) -> None:
    """Bootstrap creates an administrator and prints their generated password once."""
    assert not services.run(lambda c: c.bootstrap.has_administrator())

    result = cli("admin", "bootstrap", "--username", "root")

    assert result.exit_code == 0, result.output
    [password] = PASSWORD_LINE.findall(result.stdout)
    assert result.stdout.count(password) == 1
    assert verify_password(password_hash(services, "root"), password)
    assert services.run(lambda c: c.bootstrap.has_administrator())
    groups = services.run(lambda c: c.directory.get_user(OPERATOR, "root")).groups
    assert [group.name for group in groups] == [ADMIN_GROUP]


def test_bootstrap_reads_a_given_password_from_stdin(cli: Cli, services: Setup) -> None:
    """With --password-stdin the given password is stored and nothing secret printed."""
    chosen = "correct horse battery staple"

    result = cli(
        "admin", "bootstrap", "--username", "root", "--password-stdin",
        stdin=chosen + "\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert PASSWORD_LINE.findall(result.stdout) == []
    assert verify_password(password_hash(services, "root"), chosen)


def test_bootstrap_refuses_an_existing_username(cli: Cli, services: Setup) -> None:
    """An existing user is not promoted silently: bootstrap fails in one line."""
    services.user("alice")

    result = cli("admin", "bootstrap", "--username", "alice")

    assert result.exit_code == 1
    assert result.stderr == "error: a user named 'alice' already exists\n"
    assert not services.run(lambda c: c.bootstrap.has_administrator())
