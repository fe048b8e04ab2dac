"""`kernelpilot ncu capture|digest`: thin wrappers over kernelpilot.ncu (stdlib only, so a bare GPU box runs it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, print_json
from kernelpilot.errors import KernelPilotError


def register(area_parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(area_parser)

    capture = add_verb(verbs, "capture", _capture, "profile one kernel with the Nsight Compute recipe and export "
                       "report.ncu-rep, raw.csv and details.csv", json_output=True)
    capture.add_argument("--kernel", required=True, metavar="REGEX", help="regex for the kernel name to profile")
    capture.add_argument("--launch-skip", type=int, default=0, metavar="N",
                         help="matching launches to skip first (warm-up), default 0")
    capture.add_argument("--set", dest="section_set", default="full", help="ncu section set (default full)")
    capture.add_argument("--out", type=Path, metavar="DIR",
                         help="output folder (default: profile/<version>/ of the task folder around CWD)")
    capture.add_argument("--version", dest="profile_version", metavar="NAME",
                         help="profile/<NAME>/ under the task folder (default: the next vN)")
    capture.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ... that launches the kernel")

    digest = add_verb(verbs, "digest", _digest, "diagnose a report (.ncu-rep, raw or details CSV, or a capture "
                      "folder): bottleneck class, evidence and exactly one next edit")
    digest.add_argument("report", help=".ncu-rep, raw CSV, details CSV, or a folder from `ncu capture`")
    digest.add_argument("--baseline", metavar="REPORT", help="an earlier report to compare against")
    digest.add_argument("--kernel", metavar="REGEX", help="only kernels whose name matches (default: each kernel)")
    digest.add_argument("--format", choices=("md", "json"), default="md", help="output format (default md)")


def _capture(args: argparse.Namespace) -> int:
    from kernelpilot.ncu.capture import capture, default_out_dir

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.launch_skip < 0:
        raise KernelPilotError("--launch-skip must be 0 or more")
    out_dir = args.out if args.out is not None else default_out_dir(Path.cwd(), args.profile_version)
    result = capture(args.kernel, command, out_dir, args.launch_skip, args.section_set)
    summary = {"out_dir": str(result.out_dir), "report": str(result.report), "raw_csv": str(result.raw_csv),
               "details_csv": str(result.details_csv), "kernels": result.kernels, "ncu_command": result.command}
    if args.json:
        print_json(summary)
    else:
        print(f"captured {', '.join(result.kernels)} -> {result.out_dir}")
        print(f"next: kernelpilot ncu digest {result.out_dir}")
    return 0


def _digest(args: argparse.Namespace) -> int:
    from kernelpilot.ncu.digest import digest
    from kernelpilot.ncu.render import to_markdown

    result = digest(args.report, kernel=args.kernel, baseline=args.baseline)
    if args.format == "json":
        print_json(result)
    else:
        sys.stdout.write(to_markdown(result))
    return 0

