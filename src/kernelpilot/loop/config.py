"""Loop settings in layers: plugin defaults < user (~/.config/kernelpilot/loop.json) < project
(.humanize/config.json) < command-line flags. Every file layer is schema-checked on its own so an error names it."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from kernelpilot.fsutil import read_json
from kernelpilot.schemas import validate

USER_CONFIG_ENV = "KERNELPILOT_CONFIG_DIR"  # overrides the user config folder (tests, unusual homes)


def user_config_dir() -> Path:
    """$KERNELPILOT_CONFIG_DIR, else $XDG_CONFIG_HOME/kernelpilot, else ~/.config/kernelpilot on every platform:
    the plugin's shell entry (humanize/bin/kp) looks for the recorded Python in the same folder."""
    override = os.environ.get(USER_CONFIG_ENV)
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kernelpilot"


def defaults() -> dict:
    return json.loads(resources.files("kernelpilot.loop").joinpath("data/defaults.json").read_text(encoding="utf-8"))


def layer_paths(project: Path) -> list[Path]:
    return [user_config_dir() / "loop.json", project / ".humanize" / "config.json"]


def load_config(project: Path, flags: dict | None = None) -> dict:
    """The merged settings; `flags` holds only the options given on the command line (None values are ignored)."""
    merged = defaults()
    for path in layer_paths(project):
        if path.exists():
            layer = read_json(path)
            validate(layer, "loop-config", str(path))
            merged.update(layer)
    given = {key: value for key, value in (flags or {}).items() if value is not None}
    validate(given, "loop-config", "command-line options")
    merged.update(given)
    validate(merged, "loop-config", "merged loop settings")
    return merged
