"""`kernelpilot <area> <verb>`: a thin layer over the library; each area's module is imported only when used."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from kernelpilot import __version__
from kernelpilot.errors import KernelPilotError

# area -> (module that registers its verbs, one-line help). Modules are imported lazily so that a verb pays only
# for its own area.
AREAS: dict[str, tuple[str, str]] = {
    "task": ("kernelpilot.cli.task", "scaffold, check, time, map and report kernel tasks"),
    "ledger": ("kernelpilot.cli.ledger", "validate and render a task's append-only ledgers"),
    "knowledge": ("kernelpilot.cli.knowledge", "fetch, index and search the kernel evidence corpus"),
    "ncu": ("kernelpilot.cli.ncu", "capture Nsight Compute reports and digest them into one next edit"),
    "loop": ("kernelpilot.cli.loop", "the review-gated RLCR loop: start, status, cancel, gate"),
    "plan": ("kernelpilot.cli.plan", "generate, refine and validate loop plans"),
    "install": ("kernelpilot.cli.install", "install skills and the loop plugin into Claude Code, Codex, Kimi"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the cause (exit 2), never the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(area: str | None) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="kernelpilot",
        description="KernelPilot: disciplined GPU-kernel optimization for coding agents.",
    )
    parser.add_argument("--version", action="version", version=f"kernelpilot {__version__}")
    areas = parser.add_subparsers(dest="area", metavar="AREA", parser_class=OneLineParser)
    areas.required = True
    for name, (module_name, summary) in AREAS.items():
        sub = areas.add_parser(name, help=summary, description=summary)
        if name == area:
            importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    area = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        parser = build_parser(area if area in AREAS else None)
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.parse_args([args.area, "--help"])
            return 2
        return int(handler(args) or 0)
    except KernelPilotError as exc:
        print(f"kernelpilot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kernelpilot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: one line, the traceback on request
        if os.environ.get("KERNELPILOT_DEBUG"):
            raise
        print(f"kernelpilot: internal error: {type(exc).__name__}: {exc} (set KERNELPILOT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 70
