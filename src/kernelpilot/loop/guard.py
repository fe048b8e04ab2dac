"""PreToolUse guard: while a loop is active, no tool call may rewrite its state, its plan copy, the active-loop
pointer, or the goal tracker's fixed goal section. Reading them is always allowed."""

from __future__ import annotations

import os
import re

from kernelpilot.loop import layout

WRITING_SHELL = re.compile(r">|\btee\b|\bsed\s+-i|\bmv\b|\brm\b|\bcp\b|\btruncate\b|\bdd\b|\bln\b|\bchmod\b|"
                           r"\bpython\d?\b|\bperl\b|\bgit\s+(?:checkout|restore|clean|stash)\b")


def guard_decision(project: str, pointer: dict, payload: dict) -> dict | None:
    if "damaged" in pointer:
        return None
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    directory = os.path.realpath(layout.loop_dir(project, pointer["loop_id"]))
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else project
    command = tool_input.get("command")
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    if isinstance(command, str):
        reason = _shell_reason(command)
    else:
        target = tool_input.get("file_path") or tool_input.get("notebook_path") or tool_input.get("path")
        reason = _file_reason(os.path.realpath(os.path.join(cwd, target)), directory, tool_input) if isinstance(
            target, str) else None
    if reason is None:
        return None
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                   "permissionDecisionReason": f"kernelpilot loop: {reason}"}}


def _shell_reason(command: str) -> str | None:
    names = (*layout.PROTECTED, layout.GOAL_TRACKER)
    touches_loop = ".humanize" in command and (any(name in command for name in names) or
                                               re.search(r"\.humanize/?(?:rlcr/?)?(?:\s|$|['\"])", command))
    if touches_loop and WRITING_SHELL.search(command):
        return ("shell commands may not write the loop's own files under .humanize/rlcr while it runs; "
                "write the round contract and summary with the file tools")
    return None


def _file_reason(path: str, directory: str, tool_input: dict) -> str | None:
    rlcr = os.path.dirname(directory)
    if os.path.dirname(path) == rlcr and os.path.basename(path) == layout.ACTIVE:
        return "the active-loop pointer belongs to the loop runtime"
    if os.path.dirname(path) != directory:
        return None
    name = os.path.basename(path)
    if name in (layout.STATE, layout.PLAN_COPY):
        return f"{name} belongs to the loop runtime and cannot be edited while the loop runs"
    if name == layout.GOAL_TRACKER and _goal_section_changes(path, tool_input):
        return "the goal and acceptance-criteria section of the goal tracker is fixed; edit only the tasks part"
    return None


def _goal_section_changes(path: str, tool_input: dict) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    except OSError:
        return True
    if isinstance(tool_input.get("content"), str):
        after = tool_input["content"]
    else:
        edits = tool_input.get("edits") if isinstance(tool_input.get("edits"), list) else [tool_input]
        after = current
        for edit in edits:
            old, new = edit.get("old_string"), edit.get("new_string")
            if not isinstance(old, str) or not isinstance(new, str):
                return True
            after = after.replace(old, new) if edit.get("replace_all") else after.replace(old, new, 1)
    return layout.immutable_section(after) != layout.immutable_section(current)
