"""`python -m kernelpilot.loop.hook stop|pre-tool`: the one hook binary for Claude Code's and Codex's contracts.

Input is the client's JSON on stdin; output is a JSON object on stdout (or nothing) and exit status 0. Every
session of every project calls this, so until a loop that concerns the caller is found only the standard library
and `layout` are imported, and nothing is ever printed for other sessions or projects.
"""

from __future__ import annotations

import json
import os
import sys

from kernelpilot.loop import layout

REVIEWER_ENV = "KERNELPILOT_REVIEWER"  # set for reviewer agents, whose own hooks must never re-enter the loop


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    event = args[0] if args else ""
    if os.environ.get(REVIEWER_ENV) or event not in ("stop", "pre-tool"):
        return 0
    try:
        payload = json.loads(sys.stdin.read())
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object")
    except ValueError as exc:
        return _malformed_input(event, exc)
    cwd = payload.get("cwd")
    project = layout.find_project(cwd if isinstance(cwd, str) and cwd else os.getcwd())
    pointer = layout.read_active(project) if project else None
    if pointer is None:
        return 0
    if event == "pre-tool":
        from kernelpilot.loop.guard import guard_decision

        return _emit(guard_decision(project, pointer, payload))
    owner = pointer.get("session_id")
    if owner and payload.get("session_id") != owner:
        return 0
    try:
        from kernelpilot.loop.machine import stop_hook

        return _emit(stop_hook(project, pointer, payload))
    except Exception as exc:  # never a traceback into the agent's session; the loop files stay as they were
        return _emit({"systemMessage": f"kernelpilot loop: the stop hook failed ({type(exc).__name__}: {exc}); "
                                       "the stop is allowed and the loop state is unchanged"})


def _malformed_input(event: str, exc: ValueError) -> int:
    """Bad input cannot name its session: speak only where a loop is active, and block nothing."""
    project = layout.find_project(os.getcwd())
    if project and layout.read_active(project) is not None and event == "stop":
        return _emit({"systemMessage": f"kernelpilot loop: the {event} hook got input that is not a JSON object "
                                       f"({exc}); the stop is allowed and the loop state is unchanged"})
    return 0


def _emit(output: dict | None) -> int:
    if output:
        sys.stdout.write(json.dumps(output) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
