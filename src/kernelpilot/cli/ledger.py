"""`kernelpilot ledger ...`: validate and render a task's ledgers."""

from __future__ import annotations

import argparse

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json


def register(parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(parser)
    validate = add_verb(verbs, "validate", cmd_validate, "check every ledger file against its schema",
                        json_output=True)
    validate.add_argument("task")
    render = add_verb(verbs, "render", cmd_render, "regenerate attempt-ledger.md and optimization-ledger.md")
    render.add_argument("task")


def cmd_validate(args) -> int:
    from kernelpilot.harness import ledgers
    from kernelpilot.harness.spec import find_task_root

    root = find_task_root(args.task)
    found = ledgers.problems(root)
    if args.json:
        print_json({"task": str(root), "problems": found})
    elif found:
        for problem in found:
            console().print(f"[red]✗[/] {problem}")
    else:
        console().print(f"[green]✓[/] ledgers of {root.name} are valid")
    return 1 if found else 0


def cmd_render(args) -> int:
    from kernelpilot.harness import ledgers
    from kernelpilot.harness.spec import find_task_root

    root = find_task_root(args.task)
    ledgers.render(root)
    console().print(f"rendered {root / ledgers.ATTEMPT_LEDGER} and {root / ledgers.OPTIMIZATION_LEDGER}")
    return 0
