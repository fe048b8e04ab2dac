"""Fixtures for the installer tests; the helpers live in homes.py beside this file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from homes import make_home  # noqa: E402


@pytest.fixture
def home(tmp_path) -> Path:
    """A throwaway home that already holds the user's own Codex settings, which the installers must keep."""
    return make_home(tmp_path)
