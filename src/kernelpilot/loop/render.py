"""Prompt and summary templates (jinja2 files beside this module)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=False, autoescape=False)


def render(name: str, **values) -> str:
    return _environment().get_template(f"{name}.j2").render(**values)
