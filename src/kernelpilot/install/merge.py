"""Merging KernelPilot's entries into a client's own settings files, and taking only them out again. Every merge
returns the new text, or the old text unchanged when the entries are already there (a repeated install is a no-op).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_json

HOOK_MODULE = "-m kernelpilot.loop.hook"
STOP_TIMEOUT_S, PRE_TOOL_TIMEOUT_S = 7200, 30
FEATURES_HEADER = re.compile(r"^\s*\[features\]\s*(#.*)?$")
TABLE_HEADER = re.compile(r"^\s*\[")
HOOKS_KEY = re.compile(r"^\s*hooks\s*=")
OUR_HOOKS_LINE = "hooks = true"


def read_json_object(path: Path) -> dict:
    """A client's JSON settings file; {} when it is absent or empty."""
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    try:
        data = read_json(path)
    except KernelPilotError as exc:
        raise KernelPilotError(f"{exc}; fix it and run the installer again") from None
    if not isinstance(data, dict):
        raise KernelPilotError(f"{path}: expected a JSON object")
    return data


def dump_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


# -- Codex hooks.json ---------------------------------------------------------------------------------------------

def codex_hooks(python: str) -> dict[str, dict]:
    """event -> the matcher group KernelPilot adds: the loop's Stop hook and its PreToolUse guard."""
    entry = f"{shlex.quote(python)} {HOOK_MODULE}"
    return {
        "Stop": {"hooks": [{"type": "command", "command": f"{entry} stop", "timeout": STOP_TIMEOUT_S}]},
        "PreToolUse": {"matcher": "Bash",
                       "hooks": [{"type": "command", "command": f"{entry} pre-tool", "timeout": PRE_TOOL_TIMEOUT_S}]},
    }


def _ours(handler: dict) -> bool:
    return isinstance(handler, dict) and HOOK_MODULE in str(handler.get("command", ""))


def _without_ours(hooks: dict) -> dict:
    kept = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept[event] = groups
            continue
        new_groups = []
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(handlers, list) and any(_ours(h) for h in handlers):
                group = {**group, "hooks": [h for h in handlers if not _ours(h)]}
                if not group["hooks"]:
                    continue
            new_groups.append(group)
        if new_groups:
            kept[event] = new_groups
    return kept


def merge_codex_hooks(path: Path, python: str) -> str:
    data = read_json_object(path)
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise KernelPilotError(f"{path}: 'hooks' is not an object")
    merged = _without_ours(hooks)
    for event, group in codex_hooks(python).items():
        merged.setdefault(event, []).append(group)
    if merged == hooks and path.is_file():
        return path.read_text(encoding="utf-8")
    return dump_json({**data, "hooks": merged})


def unmerge_codex_hooks(path: Path) -> str:
    data = read_json_object(path)
    return dump_json({**data, "hooks": _without_ours(data.get("hooks", {}))})


# -- Codex config.toml --------------------------------------------------------------------------------------------

def _features_span(lines: list[str]) -> tuple[int, int] | None:
    for start, line in enumerate(lines):
        if FEATURES_HEADER.match(line):
            end = next((i for i in range(start + 1, len(lines)) if TABLE_HEADER.match(lines[i])), len(lines))
            return start, end
    return None


def enable_codex_hooks(path: Path) -> str:
    """config.toml with `[features] hooks = true`, every other line as the user wrote it."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines = text.splitlines()
    span = _features_span(lines)
    if span is None:
        lines += ([""] if lines and lines[-1].strip() else []) + ["[features]", OUR_HOOKS_LINE]
    else:
        start, end = span
        key = next((i for i in range(start + 1, end) if HOOKS_KEY.match(lines[i])), None)
        if key is None:
            lines.insert(start + 1, OUR_HOOKS_LINE)
        else:
            lines[key] = OUR_HOOKS_LINE
    merged = "\n".join(lines) + "\n"
    _check_hooks_enabled(merged, path)
    return text if _same_setting(text, merged) else merged


def disable_our_codex_hooks_line(path: Path) -> str:
    """Take out the line the install added, and the [features] table when it holds nothing else."""
    lines = path.read_text(encoding="utf-8").splitlines()
    span = _features_span(lines)
    if span is None:
        return "\n".join(lines) + "\n"
    start, end = span
    body = [line for line in lines[start + 1:end] if line.strip() != OUR_HOOKS_LINE]
    if any(line.strip() and not line.strip().startswith("#") for line in body):
        lines[start + 1:end] = body
    else:
        lines[start:end] = []
        while lines and not lines[-1].strip():
            lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _same_setting(text: str, merged: str) -> bool:
    try:
        import tomllib
    except ImportError:  # Python 3.10: compare the text itself
        return text == merged
    try:
        return bool(text) and tomllib.loads(text).get("features", {}).get("hooks") is True
    except tomllib.TOMLDecodeError:
        return False


def _check_hooks_enabled(text: str, path: Path) -> None:
    try:
        import tomllib
    except ImportError:
        return
    try:
        features = tomllib.loads(text).get("features", {})
    except tomllib.TOMLDecodeError as exc:
        raise KernelPilotError(f"{path}: not valid TOML ({exc}); fix it and run the installer again") from None
    if features.get("hooks") is not True:
        raise KernelPilotError(f"{path}: could not enable [features] hooks; set `hooks = true` there by hand")


# -- Claude Code settings.json (when the claude CLI is absent) ----------------------------------------------------

MARKETPLACE, PLUGIN_ID = "kernelpilot", "humanize@kernelpilot"


def merge_claude_settings(path: Path, root: Path) -> str:
    """The two keys `claude plugin marketplace add` and `claude plugin install` write to the user settings."""
    data = read_json_object(path)
    merged = {**data,
              "extraKnownMarketplaces": {**data.get("extraKnownMarketplaces", {}),
                                         MARKETPLACE: {"source": {"source": "directory", "path": str(root)}}},
              "enabledPlugins": {**data.get("enabledPlugins", {}), PLUGIN_ID: True}}
    return path.read_text(encoding="utf-8") if merged == data else dump_json(merged)


def unmerge_claude_settings(path: Path) -> str:
    data = read_json_object(path)
    for key, inner in (("extraKnownMarketplaces", MARKETPLACE), ("enabledPlugins", PLUGIN_ID)):
        if isinstance(data.get(key), dict):
            data[key] = {k: v for k, v in data[key].items() if k != inner}
    return dump_json(data)
