"""Set up a development environment and run tokenward or its checks.

    python3 dev.py start          install into .venv, then `tokenward quickstart`
    python3 dev.py test [ARGS]    install the dev tools, then ruff, mypy and pytest
                                  (ARGS go to pytest)

Standard library only, so that it runs on a fresh machine with nothing but Python
3.11 or newer. Installing is skipped when a stamp in .venv shows that the same lock
file and pyproject.toml were installed already, so a second run starts at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "tokenward-installed.json"
RUNTIME_LOCK = "requirements.lock"
DEV_LOCK = "requirements-dev.lock"
MINIMUM_PYTHON = (3, 11)
USAGE = "usage: python3 dev.py start | python3 dev.py test [PYTEST ARGS...]"


class SetupError(Exception):
    """The environment could not be prepared; the message says what to do."""


def venv_executable(name: str) -> Path:
    """A program installed in the virtual environment."""
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"

    return VENV / "bin" / name


def ensure_venv() -> None:
    """Create .venv with this interpreter unless it already has a Python."""
    if venv_executable("python").exists():
        return
    print(f"creating {VENV.name} with Python {sys.version.split()[0]}")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (OSError, subprocess.CalledProcessError) as error:
        raise SetupError(
            f"could not create {VENV}: {error}. On Debian or Ubuntu, install the "
            "python3-venv package, then run this again."
        ) from None


def fingerprint(lock: str) -> str:
    """What an install depends on: the lock, the package metadata, the Python."""
    digest = hashlib.sha256()
    for path in (ROOT / lock, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())

    return digest.hexdigest()


def read_stamp() -> dict[str, str]:
    try:
        loaded = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}

    return loaded if isinstance(loaded, dict) else {}


def install(lock: str) -> None:
    """Install `lock` and the package itself (editable), unless already done."""
    ensure_venv()
    stamp = read_stamp()
    wanted = fingerprint(lock)
    if stamp.get(lock) == wanted:
        return
    python = str(venv_executable("python"))
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print(f"installing {lock} into {VENV.name} (skipped next time if unchanged)")
    run_or_fail([*pip, "-r", str(ROOT / lock)])
    # --no-deps: every dependency is pinned by the lock installed just before.
    run_or_fail([*pip, "--no-deps", "-e", str(ROOT)])
    stamp[lock] = wanted
    STAMP.write_text(json.dumps(stamp, indent=2) + "\n")


def run_or_fail(command: Sequence[str]) -> None:
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise SetupError(f"failed: {' '.join(command)}")


def start(arguments: Sequence[str]) -> int:
    """Install the runtime and replace this process with `tokenward quickstart`."""
    install(RUNTIME_LOCK)
    program = str(venv_executable("tokenward"))
    sys.stdout.flush()
    # exec, not a child: Ctrl-C and termination signals reach the server directly.
    os.execv(program, [program, "quickstart", *arguments])  # noqa: S606 - our venv


def test(pytest_arguments: Sequence[str]) -> int:
    """Install the dev tools, run every check, and fail if any one failed.

    All checks run even after a failure, so one run shows every problem.
    """
    install(DEV_LOCK)
    python = str(venv_executable("python"))
    checks = {
        "ruff check": [python, "-m", "ruff", "check", "."],
        "ruff format": [python, "-m", "ruff", "format", "--check", "."],
        "mypy": [python, "-m", "mypy"],
        "pytest": [python, "-m", "pytest", *pytest_arguments],
    }
    failed = []
    for name, command in checks.items():
        print(f"\n=== {name}", flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
            failed.append(name)

    print()
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print("all checks passed")

    return 0


def main(argv: Sequence[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        print("tokenward needs Python 3.11 or newer", file=sys.stderr)
        return 1
    if not argv or argv[0] not in ("start", "test"):
        print(USAGE, file=sys.stderr)
        return 2
    command, arguments = argv[0], argv[1:]
    try:
        return start(arguments) if command == "start" else test(arguments)
    except SetupError as error:
        print(f"dev.py: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
