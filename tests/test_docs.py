"""The documentation in docs/ agrees with the code it describes."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tokenward.config import Settings
from tokenward.container import Container
from tokenward.tokens import format
from tokenward.web.app import create_app

DOCS = Path(__file__).resolve().parent.parent / "docs"
ENV_PREFIX = "TOKENWARD_"
# Names the configuration doc may use that are not settings: the one that names the
# TOML file.
OTHER_VARIABLES = frozenset({"TOKENWARD_CONFIG"})
VARIABLE_NAME = re.compile(r"\bTOKENWARD_[A-Z0-9_]+\b")
TABLE_HEADER = "| TOML key |"
TABLE_RULE = "|---|---|---|---|---|\n"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
ENDPOINT_HEADING = re.compile(
    r"^#{2,4} `(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`\s]*)`$", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class DocumentedSetting:
    """One row of the settings table, with Markdown code marks removed."""

    key: str
    variable: str
    default: str


def read_doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language blocks of a Markdown text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def settings_table(text: str) -> dict[str, DocumentedSetting]:
    """The rows of the table whose header starts with `| TOML key |`, by key."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(TABLE_HEADER)]
    if len(starts) != 1:
        raise ValueError(f"expected one settings table, found {len(starts)}")
    header = _cells(lines[starts[0]])
    key, variable, default = (
        header.index(name) for name in ("TOML key", "Environment variable", "Default")
    )

    rows: dict[str, DocumentedSetting] = {}
    for line in lines[starts[0] + 2 :]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        row = DocumentedSetting(cells[key], cells[variable], cells[default])
        if row.key in rows:
            raise ValueError(f"{row.key} is documented twice")
        rows[row.key] = row

    return rows


def expected_default(field: FieldInfo) -> str:
    """A field's default as the configuration doc writes it."""
    default = field.get_default(call_default_factory=True)
    if default is PydanticUndefined:
        return "required"
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "true" if default else "false"

    return str(default)


def configuration_drift(text: str) -> list[str]:
    """Every way in which `text` disagrees with `Settings`; empty if none."""
    fields = Settings.model_fields
    documented = settings_table(text)
    problems = []
    for name, field in fields.items():
        row = documented.get(name)
        if row is None:
            problems.append(f"{name}: missing from the table")
            continue
        if row.variable != ENV_PREFIX + name.upper():
            problems.append(f"{name}: variable is {row.variable}")
        if row.default != expected_default(field):
            problems.append(
                f"{name}: default is {row.default}, not {expected_default(field)}"
            )
    problems.extend(
        f"{key}: documented, but there is no such setting"
        for key in sorted(documented.keys() - fields.keys())
    )
    variables = {ENV_PREFIX + name.upper() for name in fields} | OTHER_VARIABLES
    problems.extend(
        f"{variable}: named, but there is no such setting"
        for variable in sorted(set(VARIABLE_NAME.findall(text)) - variables)
    )

    return problems


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]


def _without_row(key: str) -> Callable[[str], str]:
    return lambda text: re.sub(rf"^\| `{key}` \|.*\n", "", text, flags=re.MULTILINE)


def _replacing(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TOKENWARD_ variable of the test run leaks into the settings."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_configuration_doc_matches_settings() -> None:
    """docs/configuration.md lists every setting with its variable and default, and
    names no setting that does not exist."""
    assert configuration_drift(read_doc("configuration.md")) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(_replacing("| `8080` |", "| `8081` |"), "port", id="default"),
        pytest.param(
            _replacing("`TOKENWARD_HOST`", "`TOKENWARD_HOSTNAME`"),
            "host",
            id="variable",
        ),
        pytest.param(_without_row("api_docs"), "api_docs", id="missing"),
        pytest.param(
            _replacing(
                TABLE_RULE,
                TABLE_RULE + "| `colour` | `TOKENWARD_COLOUR` | - | - | - |\n",
            ),
            "colour",
            id="invented-row",
        ),
        pytest.param(
            _replacing("## Examples", "Set TOKENWARD_COLOUR.\n\n## Examples"),
            "TOKENWARD_COLOUR",
            id="invented-variable",
        ),
    ],
)
def test_configuration_drift_is_reported(
    mutate: Callable[[str], str], expected: str
) -> None:
    """A doc that drifts from the settings in any one way is reported."""
    original = read_doc("configuration.md")
    mutated = mutate(original)
    assert mutated != original

    problems = configuration_drift(mutated)

    assert any(problem.startswith(expected) for problem in problems), problems


@pytest.mark.usefixtures("clean_environment")
def test_configuration_toml_examples_are_valid() -> None:
    """Every TOML example in docs/configuration.md is accepted as settings."""
    examples = fenced_blocks(read_doc("configuration.md"), "toml")
    assert examples

    for example in examples:
        Settings(**tomllib.loads(example))


@pytest.mark.usefixtures("clean_environment")
def test_configuration_environment_examples_are_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every TOKENWARD_ assignment in the shell examples is accepted as settings."""
    assignments = [
        assignment.split("=", 1)
        for block in fenced_blocks(read_doc("configuration.md"), "sh")
        for line in block.splitlines()
        for assignment in shlex.split(line, comments=True)
        if assignment.startswith(ENV_PREFIX)
        and assignment.split("=", 1)[0] not in OTHER_VARIABLES
    ]
    assert assignments

    for name, value in assignments:
        monkeypatch.setenv(name, value)
    settings = Settings()

    for name, _value in assignments:
        field = name.removeprefix(ENV_PREFIX).lower()
        assert field in settings.model_fields_set, name


def test_security_doc_gives_the_scanner_pattern() -> None:
    """docs/security.md quotes the scanner pattern the code computes for `tw`."""
    assert f"`{format.scanner_pattern('tw')}`" in read_doc("security.md")


def test_security_doc_checksum_recipe_agrees_with_the_code() -> None:
    """The checksum recipe in docs/security.md accepts real tokens and refuses a
    changed one."""
    [recipe] = fenced_blocks(read_doc("security.md"), "python")
    namespace: dict[str, object] = {}
    exec(recipe, namespace)  # noqa: S102 - runs our own doc's example, no outside input
    checksum_ok = namespace["checksum_ok"]
    assert callable(checksum_ok)

    for prefix in ("tw", "acme"):
        token = format.generate(prefix)
        changed = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert checksum_ok(token) is True
        assert checksum_ok(changed) is False


@pytest.fixture
def api_routes(clean_environment: None, tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document the app serves."""
    container = Container(Settings(data_dir=tmp_path, instance_secret="d" * 32))

    async def fetch_openapi() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=create_app(container))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tokenward.test"
            ) as client:
                response = await client.get("/api/v1/openapi.json")
        finally:
            await container.close()
        response.raise_for_status()
        document: dict[str, Any] = response.json()

        return document

    paths: dict[str, dict[str, Any]] = asyncio.run(fetch_openapi())["paths"]

    return {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method.upper() in HTTP_METHODS
    }


def test_api_doc_covers_every_route(api_routes: set[tuple[str, str]]) -> None:
    """docs/api.md has one heading per REST route, and none for a route that does
    not exist."""
    documented = ENDPOINT_HEADING.findall(read_doc("api.md"))
    assert len(documented) == len(set(documented)), "an endpoint is documented twice"

    assert set(documented) == api_routes


def test_every_picture_in_the_docs_exists() -> None:
    """Each image a document shows (the UI screenshots) is in the repository, and
    each screenshot kept there is shown somewhere."""
    shown = {
        (page.parent / target).resolve()
        for page in DOCS.rglob("*.md")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text())
    }
    kept = {path.resolve() for path in (DOCS / "screenshots").glob("*.png")}

    assert sorted(str(path) for path in shown - kept) == []
    assert sorted(str(path) for path in kept - shown) == []
    assert shown
