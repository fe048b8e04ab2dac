"""Where a loop keeps its files, and the cheap lookups the hooks make on every call (stdlib only, no schema work).

    <project>/.humanize/rlcr/active.json         {"loop_id", "session_id"} while a loop runs; absent otherwise
    <project>/.humanize/rlcr/<loop_id>/state.json schema-validated state (kernelpilot/schemas/loop-state)
                                      plan.md, goal-tracker.md, round-N-{prompt,contract,summary,review}.md, ...
"""

from __future__ import annotations

import json
import os
import re

RLCR = os.path.join(".humanize", "rlcr")
ACTIVE = "active.json"
STATE = "state.json"
PLAN_COPY = "plan.md"
GOAL_TRACKER = "goal-tracker.md"
REVIEWER_PID = "reviewer.pid"
GOAL_SECTION = re.compile(r"<!-- IMMUTABLE:BEGIN.*?-->(.*?)<!-- IMMUTABLE:END -->", re.S)
# Files the agent must never rewrite while the loop runs (the goal tracker is guarded section by section).
PROTECTED = (STATE, PLAN_COPY, ACTIVE)


def find_project(start: str) -> str | None:
    """The nearest folder at or above `start` that holds .humanize/rlcr, or None."""
    current = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(current, RLCR)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def rlcr_dir(project: str) -> str:
    return os.path.join(project, RLCR)


def loop_dir(project: str, loop_id: str) -> str:
    return os.path.join(project, RLCR, loop_id)


def active_file(project: str) -> str:
    return os.path.join(project, RLCR, ACTIVE)


def read_active(project: str) -> dict | None:
    """The active-loop pointer, or None when no loop runs. A damaged pointer reads as {"damaged": reason}."""
    path = active_file(project)
    try:
        with open(path, encoding="utf-8") as handle:
            pointer = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"damaged": f"{path}: {exc}"}
    if not isinstance(pointer, dict) or not isinstance(pointer.get("loop_id"), str):
        return {"damaged": f"{path}: expected an object with a loop_id"}
    return pointer


def round_file(directory: str, round_number: int, kind: str) -> str:
    """round-N-<kind>.md: kind is prompt, contract, summary, review, code-review."""
    return os.path.join(directory, f"round-{round_number}-{kind}.md")


def immutable_section(goal_tracker: str) -> str | None:
    """The goal tracker's fixed goal and acceptance-criteria section, or None when its markers are gone."""
    match = GOAL_SECTION.search(goal_tracker)
    return match.group(1) if match else None
