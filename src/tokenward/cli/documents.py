"""Reading the JSON documents that commands take as files (policies, for example)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tokenward.cli.runner import fail, reported_errors


def read_document(path: Path) -> dict[str, Any]:
    """The JSON object in `path` (stdin for -), or exit saying why not."""
    if str(path) == "-":
        name, text = "stdin", sys.stdin.read()
    else:
        name = str(path)
        with reported_errors():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                fail(f"{name} is not UTF-8 text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{name} is not JSON: {error}")
    if not isinstance(data, dict):
        fail(f"{name} does not hold a JSON object")

    return data
