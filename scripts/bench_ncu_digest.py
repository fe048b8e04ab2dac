#!/usr/bin/env python3
"""Print how long `kernelpilot ncu digest` takes on `--set full` CSV exports (the bar: under 2 s).

    PYTHONPATH=src python3 scripts/bench_ncu_digest.py [REPORT ...] [--repeat N]

With no REPORT, every capture folder and raw CSV under tests/ncu/fixtures is timed. Two figures per report: the
whole CLI as a user runs it (a fresh interpreter, Markdown output), and the in-process digest alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from kernelpilot import machine
from kernelpilot.ncu.digest import digest
from kernelpilot.ncu.render import to_markdown

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "ncu" / "fixtures"


def _reports(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted({p.parent for p in FIXTURES.glob("*/raw.csv")} | set(FIXTURES.glob("*/raw_autounits.csv")))


def _time_cli(report: Path, repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "kernelpilot", "ncu", "digest", str(report)],
                              capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{report}: digest failed: {done.stderr.strip()}")
    return times


def _time_library(report: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        to_markdown(digest(str(report)))
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="*")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    reports = _reports(args.reports)
    if not reports:
        print(f"no reports given and none under {FIXTURES}")
        return 1
    print(machine.header("scripts/bench_ncu_digest.py"))
    print(f"{'report':60} {'size':>9} {'metrics':>8} {'CLI median':>11} {'CLI max':>8} {'library':>8}")
    worst = 0.0
    for report in reports:
        raw = report / "raw.csv" if report.is_dir() else report
        size = sum(p.stat().st_size for p in ([report / "raw.csv", report / "details.csv"] if report.is_dir()
                                              else [report]) if p.exists())
        with open(raw, encoding="utf-8", errors="replace") as handle:
            columns = handle.readline().count('","') + 1
        cli = _time_cli(report, args.repeat)
        library = _time_library(report, args.repeat)
        worst = max(worst, max(cli))
        shown = str(report.relative_to(ROOT)) if report.is_relative_to(ROOT) else str(report)
        print(f"{shown:60} {size / 1024:>7.0f}KB {columns:>8} {statistics.median(cli):>10.3f}s {max(cli):>7.3f}s "
              f"{statistics.median(library):>7.3f}s")
    print(f"slowest CLI run: {worst:.3f} s (bar: < 2 s) -> {'PASS' if worst < 2 else 'FAIL'}")
    return 0 if worst < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
