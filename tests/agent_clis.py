"""The agent CLIs (claude, codex) the installer and loop tests run for real."""

import os
import shutil

import pytest


def require_cli(name: str) -> str:
    """The agent CLI's path. scripts/setup.sh installs claude and codex wherever npm exists (CI among those), so
    a missing one fails there instead of skipping; only a machine without npm (or outside CI) skips."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or shutil.which("npm"):
            pytest.fail(f"the {name} CLI is not on PATH: run scripts/setup.sh, which installs it under .tools/")
        pytest.skip(f"{name} CLI not on PATH and no npm to install it with")
    return path
