"""`kernelpilot plan gen|refine|validate`: thin wrappers over kernelpilot.loop.plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json
from kernelpilot.errors import KernelPilotError


def register(area_parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(area_parser)
    gen = add_verb(verbs, "gen", _gen, "render a plan from a draft, adding criteria for every W case of --task",
                   json_output=True)
    gen.add_argument("--input", required=True, type=Path, help="the draft (markdown or free text)")
    gen.add_argument("--output", required=True, type=Path, help="where to write the plan")
    gen.add_argument("--task", type=Path, help="kernel task folder whose W the criteria must cover")
    refine = add_verb(verbs, "refine", _refine, "fold reviewer comments (CMT:) out of a plan and re-check it",
                      json_output=True)
    refine.add_argument("--input", required=True, type=Path, help="the commented plan")
    refine.add_argument("--output", type=Path, help="where to write the refined plan (default: over --input)")
    refine.add_argument("--task", type=Path, help="kernel task folder whose W the criteria must cover")
    check = add_verb(verbs, "validate", _validate, "report every missing or malformed section of a plan",
                     json_output=True)
    check.add_argument("plan", type=Path)
    check.add_argument("--task", type=Path, help="kernel task folder whose W the criteria must cover")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KernelPilotError(f"{path}: no such file") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise KernelPilotError(f"{path}: cannot read as text ({type(exc).__name__})") from None


def _task(path: Path | None) -> Path | None:
    from kernelpilot.loop.plan import require_task_dir

    return require_task_dir(path) if path is not None else None


def _report(args: argparse.Namespace, output: Path, problems: list[str], comments: list[str] = ()) -> int:
    if args.json:
        print_json({"plan": str(output), "problems": problems, "comments": list(comments)})
    else:
        out = console()
        for comment in comments:
            out.print(f"comment to address: {comment}")
        if problems:
            out.print(f"{output}: {len(problems)} problem(s) to fix:")
            for problem in problems:
                out.print(f"  - {problem}")
        else:
            out.print(f"{output}: plan is complete")
    return 1 if problems else 0


def _gen(args: argparse.Namespace) -> int:
    from kernelpilot.fsutil import atomic_write_text
    from kernelpilot.loop import plan

    task = _task(args.task)
    text = plan.generate(_read(args.input), task)
    atomic_write_text(args.output, text)
    return _report(args, args.output, plan.plan_problems(text, task))


def _refine(args: argparse.Namespace) -> int:
    from kernelpilot.fsutil import atomic_write_text
    from kernelpilot.loop import plan

    task = _task(args.task)
    text, comments = plan.refine(_read(args.input), task)
    output = args.output or args.input
    atomic_write_text(output, text)
    return _report(args, output, plan.plan_problems(text, task), comments)


def _validate(args: argparse.Namespace) -> int:
    from kernelpilot.loop import plan

    return _report(args, args.plan, plan.plan_problems(_read(args.plan), _task(args.task)))
