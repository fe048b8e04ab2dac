"""`kernelpilot loop start|status|cancel|gate|hook`: thin wrappers over kernelpilot.loop."""

from __future__ import annotations

import argparse
import os
import shlex
import time
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json

SESSION_ENV = ("CLAUDE_CODE_SESSION_ID", "CODEX_SESSION_ID")


def register(area_parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(area_parser)
    start = add_verb(verbs, "start", _start, "check the preconditions and start a loop on a plan", json_output=True)
    start.add_argument("plan", type=Path)
    start.add_argument("--max", dest="max_rounds", type=int, help="round limit")
    start.add_argument("--reviewer", choices=["codex", "claude", "command"])
    start.add_argument("--reviewer-command", help="the reviewer's command line when --reviewer command")
    start.add_argument("--code-review-command", help="the code reviewer's command line when --reviewer command")
    start.add_argument("--review-timeout", type=float, help="seconds before the reviewer's process group is killed")
    start.add_argument("--base-branch")
    start.add_argument("--full-review-every", type=int, help="every N rounds the reviewer sees every earlier review")
    start.add_argument("--push-every-round", action="store_const", const=True)
    start.add_argument("--task", type=Path, help="kernel task folder (default: the plan's 'Task folder:' line)")
    start.add_argument("--session-id", help="the agent session that owns the loop (default: from the client's "
                                            "environment, else the first session that stops)")
    status = add_verb(verbs, "status", _status, "the active (or latest) loop's one-screen summary", json_output=True)
    status.add_argument("--watch", action="store_true", help="refresh every 2 s until the loop ends (Ctrl-C stops)")
    cancel = add_verb(verbs, "cancel", _cancel, "end the active loop from any session")
    cancel.add_argument("--force", action="store_true", help="also kill a running review, or end a loop whose state "
                                                             "is unreadable")
    gate = add_verb(verbs, "gate", _gate, "run the kernel evidence gate alone (for clients without stop hooks)",
                    json_output=True)
    gate.add_argument("--task", type=Path, help="task folder (default: the active loop's, else the current folder)")
    gate.add_argument("--summary", type=Path, help="summary whose figures to check (default: the active loop's "
                                                   "current round summary)")


def _start(args: argparse.Namespace) -> int:
    from kernelpilot.loop.machine import start_loop

    flags = {"max_rounds": args.max_rounds, "reviewer": args.reviewer, "review_timeout": args.review_timeout,
             "base_branch": args.base_branch, "full_review_every": args.full_review_every,
             "push_every_round": args.push_every_round,
             "reviewer_command": shlex.split(args.reviewer_command) if args.reviewer_command else None,
             "code_review_command": shlex.split(args.code_review_command) if args.code_review_command else None}
    session = args.session_id or next((os.environ[name] for name in SESSION_ENV if os.environ.get(name)), None)
    loop, prompt = start_loop(args.plan, Path.cwd(), flags, session, args.task)
    if args.json:
        print_json({"loop_id": loop.loop_id, "loop_dir": str(loop.dir), "prompt": prompt})
    else:
        console().print(prompt, markup=False)
    return 0


def _status(args: argparse.Namespace) -> int:
    from kernelpilot.loop.machine import loop_status

    while True:
        state, text = loop_status(Path.cwd())
        if args.json:
            print_json({"state": state, "summary": text})
            return 0
        if args.watch:
            console().clear()
        console().print(text, markup=False)
        if not args.watch or state is None or state["status"] != "active":
            return 0
        time.sleep(2)


def _cancel(args: argparse.Namespace) -> int:
    from kernelpilot.loop.machine import cancel_loop

    console().print(cancel_loop(Path.cwd(), args.force), markup=False)
    return 0


def _gate(args: argparse.Namespace) -> int:
    from kernelpilot.loop.gate import run_gate
    from kernelpilot.loop.machine import gate_inputs
    from kernelpilot.loop.plan import require_task_dir

    task, summary_path = gate_inputs(Path.cwd(), args.task, args.summary)
    require_task_dir(task, "; give --task")
    summary = summary_path.read_text(encoding="utf-8") if summary_path else None
    report = run_gate(task, summary, str(summary_path) if summary_path else "summary")
    if args.json:
        print_json({"task": str(task), "summary": str(summary_path) if summary_path else None, "ok": report.ok,
                    "problems": report.problems, "passed": report.passed, "notes": report.notes})
    else:
        out = console()
        out.print(f"evidence gate for {task}: {'PASSED' if report.ok else 'FAILED'}", markup=False)
        for line in report.lines():
            out.print(f"  {line}", markup=False)
    return 0 if report.ok else 1

