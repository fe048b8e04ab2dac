"""`kernelpilot install claude|codex|kimi|all|validate`: thin layer over kernelpilot.install."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json

CHECKOUT = Path(__file__).resolve().parents[3]


def register(parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(parser)
    for target in ("claude", "codex", "kimi", "all"):
        summary = ("every client" if target == "all" else
                   {"claude": "Claude Code", "codex": "Codex", "kimi": "Kimi"}[target])
        verb = add_verb(verbs, target, cmd_install, f"install the skills and the loop into {summary}",
                        json_output=True)
        verb.set_defaults(target=target)
        verb.add_argument("--uninstall", action="store_true", help="put the home back as it was before the install")
        verb.add_argument("--dry-run", action="store_true", help="print the steps without changing anything")
        verb.add_argument("--home", default=None, help="install into this home instead of $HOME (all client "
                                                       "folders under it)")
        verb.add_argument("--skills-dir", default=None, help="install the skills into this folder instead of "
                                                             "the client's own")
        verb.add_argument("--no-cli", action="store_true", help="write the client's files directly even when "
                                                               "its CLI is on PATH")
        verb.add_argument("--root", default=str(CHECKOUT), help="the KernelPilot checkout (default: this one)")
    check = add_verb(verbs, "validate", cmd_validate, "check the skills' frontmatter and placeholders",
                     json_output=True)
    check.add_argument("--root", default=str(CHECKOUT), help="the KernelPilot checkout (default: this one)")


def cmd_install(args) -> int:
    from kernelpilot.install.clients import CLIENTS, Context, Homes, install, uninstall
    from kernelpilot.install.skills import Bundle

    ctx_args = dict(bundle=Bundle(Path(args.root).resolve()), homes=Homes.locate(args.home), python=sys.executable,
                    skills_dir=Path(args.skills_dir).resolve() if args.skills_dir else None, use_cli=not args.no_cli)
    action = uninstall if args.uninstall else install
    outcomes = [action(client, Context(**ctx_args), dry_run=args.dry_run)
                for client in (CLIENTS if args.target == "all" else (args.target,))]
    if args.json:
        print_json([vars(outcome) for outcome in outcomes])
        return 0
    from rich.markup import escape

    out = console()
    for outcome in outcomes:
        changed = set(outcome.changed)
        tops = [path for path in outcome.changed if str(Path(path).parent) not in changed]
        summary = f" ({len(changed)} paths under {', '.join(tops)})" if changed else ""
        out.print(escape(f"{outcome.client}: {outcome.action}{summary}"), soft_wrap=True)
        for step in outcome.steps if args.dry_run else []:
            out.print(escape(f"  would {step}"), soft_wrap=True)
        for note in outcome.notes:
            out.print(escape(f"  {note}"), soft_wrap=True)
    return 0


def cmd_validate(args) -> int:
    from kernelpilot.errors import KernelPilotError
    from kernelpilot.install.skills import Bundle, skill_problems

    bundle = Bundle(Path(args.root).resolve())
    problems = {folder.name: skill_problems(folder) for folder in bundle.skill_folders()}
    if args.json:
        print_json(problems)
    else:
        for name, found in problems.items():
            console().print(f"{name}: " + ("ok" if not found else "; ".join(found)))
    if any(problems.values()):
        raise KernelPilotError(f"{sum(map(len, problems.values()))} skill problem(s)")
    return 0
