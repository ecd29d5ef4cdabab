"""`tokenward token check`: offline, with no database and no instance secret."""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tokenward.tokens import format

TOKEN = format.generate("tw")


def one_character_changed(token: str, position: int) -> str:
    replacement = "a" if token[position] != "a" else "b"

    return token[:position] + replacement + token[position + 1 :]


@pytest.fixture
def offline(tmp_path: Path) -> Cli:
    """A CLI whose database could not be reached and whose secret is not set."""
    return Cli(
        {
            # Port 9 on loopback: nothing listens, so any use of it would fail.
            "TOKENWARD_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
            "TOKENWARD_INSTANCE_SECRET": None,
            "TOKENWARD_INSTANCE_SECRET_FILE": None,
            "TOKENWARD_DATA_DIR": str(tmp_path / "never-created"),
            "TOKENWARD_CONFIG": None,
        }
    )


def test_a_valid_token_passes_without_storage(offline: Cli, tmp_path: Path) -> None:
    """A well-formed token is reported OK with exit 0, and no data is touched."""
    result = offline("token", "check", TOKEN)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")
    assert not (tmp_path / "never-created").exists()


@pytest.mark.parametrize("position", [0, 3, 20, len(TOKEN) - 1])
def test_one_changed_character_fails(offline: Cli, position: int) -> None:
    """Changing any one character makes `token check` say why and exit 1."""
    result = offline("token", "check", one_character_changed(TOKEN, position))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: not a well-formed token: ")
    assert len(result.stderr.splitlines()) == 1


def test_the_token_can_come_from_stdin(offline: Cli) -> None:
    """`token check -` reads the token from standard input, out of shell history."""
    assert offline("token", "check", "-", stdin=TOKEN + "\n").exit_code == 0
    assert offline("token", "check", "-", stdin="tw_short\n").exit_code == 1


def test_prefix_is_enforced_when_given(offline: Cli) -> None:
    """With --prefix, a well-formed token of another instance is refused."""
    other = format.generate("acme")

    assert offline("token", "check", other).exit_code == 0
    refused = offline("token", "check", other, "--prefix", "tw")
    assert refused.exit_code == 1
    assert "wrong prefix" in refused.stderr


def test_pattern_matches_generated_tokens(offline: Cli) -> None:
    """`token check --pattern` prints a regular expression that finds our tokens."""
    result = offline("token", "check", "--pattern")

    assert result.exit_code == 0, result.output
    pattern = re.compile(result.stdout.strip())
    assert pattern.search(f"leaked: {TOKEN} in a log")
    assert not pattern.search("tw_tooShort")


def test_the_installed_command_checks_offline(tmp_path: Path) -> None:
    """The installed `tokenward` entry point checks a token with no database set."""
    program = Path(sysconfig.get_path("scripts")) / "tokenward"
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKENWARD_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        "TOKENWARD_DATA_DIR": str(tmp_path / "never-created"),
    }

    def check(candidate: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [program, "token", "check", candidate],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    valid, broken = check(TOKEN), check(one_character_changed(TOKEN, 10))

    assert valid.returncode == 0, valid.stderr
    assert broken.returncode == 1
    assert broken.stderr == "error: not a well-formed token: bad checksum\n"
    assert not (tmp_path / "never-created").exists()
