"""JSON Schemas for every file format KernelPilot reads or writes, and one way to check them."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from kernelpilot.errors import KernelPilotError


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """The schema `<name>.schema.json` shipped in this package."""
    try:
        text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KernelPilotError(f"no schema named {name!r}") from None
    return json.loads(text)


def schema_errors(data: Any, name: str) -> list[str]:
    """Every violation, each as 'path: message', in document order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(name))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def validate(data: Any, name: str, source: str) -> None:
    """Raise a one-line KernelPilotError for the first violation (and how many more there are)."""
    problems = schema_errors(data, name)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise KernelPilotError(f"{source}: {problems[0]}{more}")
