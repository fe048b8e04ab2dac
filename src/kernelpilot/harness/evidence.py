"""The mechanical evidence a task folder must hold before anyone is asked to review it (the loop's gate)."""

from __future__ import annotations

import re
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_json
from kernelpilot.harness import ledgers
from kernelpilot.harness.perfmap import case_checks
from kernelpilot.harness.spec import load_task

RUN_LINE = re.compile(r'^GENERATED_FROM_RUN = "([^"]*)"$', re.M)


def evidence_problems(task_dir: Path) -> list[str]:
    """Ledgers valid; the map covers W; promoted candidates correct on all of W; dispatcher from the latest run."""
    try:
        task = load_task(task_dir)
    except KernelPilotError as exc:
        return [str(exc)]
    found = ledgers.problems(task.root)
    if found:  # every check below reads the ledgers, which would only repeat (or trip over) the damage
        return found
    latest_run = ledgers.headline_run_id(ledgers.read_results(task.root), task.arch)
    map_path = task.path("benchmarks", "performance-map.json")
    if not map_path.exists():
        return found + ["benchmarks/performance-map.json is missing (run `kernelpilot task map`)"]
    perf_map = read_json(map_path)
    found += _coverage(task, perf_map)
    found += _promoted_correctness(task, perf_map)
    found += _freshness(task, perf_map, latest_run)
    return found


def _coverage(task, perf_map: dict) -> list[str]:
    mapped = {c["case"] for op in perf_map.get("ops", {}).values() for c in op["cases"] if c.get("impls")}
    missing = [c.id for c in task.cases if c.id not in mapped]
    return [f"the performance map has no measurements for {len(missing)} case(s) of W: {', '.join(missing[:5])}"] \
        if missing else []


def _promoted_correctness(task, perf_map: dict) -> list[str]:
    """Each promoted candidate passed on every case of W, judged as the map judges it: its latest GPU check passed
    as a whole, and each case by the latest check that covered it (a narrowed `task run --case ...` re-judges its
    own cases only)."""
    checks = case_checks(task.root)
    problems = []
    for op_name, op in perf_map.get("ops", {}).items():
        for winner in sorted(set(op.get("buckets", {}).values()) & set(task.candidate_names())):
            status, passed = checks.get(winner, (None, {}))
            lacking = [c.id for c in task.cases_for(op_name) if not passed.get(c.id)]
            if status not in (None, "correct"):
                problems.append(f"promoted candidate {winner}'s latest GPU check is {status}")
            elif status is None or lacking:
                problems.append(f"promoted candidate {winner} lacks a passing GPU check for {op_name} on "
                                f"{len(lacking) if status else 'all'} case(s) of W"
                                + (f": {', '.join(lacking[:5])}" if status and lacking else ""))
    return problems


def _freshness(task, perf_map: dict, latest_run: str | None) -> list[str]:
    problems = []
    dispatch = task.path("benchmarks", "dispatch.py")
    if not dispatch.exists():
        return ["benchmarks/dispatch.py is missing (run `kernelpilot task map`)"]
    match = RUN_LINE.search(dispatch.read_text(encoding="utf-8"))
    generated_from = match.group(1) if match else None
    if latest_run and generated_from != latest_run:
        problems.append(f"benchmarks/dispatch.py was generated from run {generated_from}, but the latest benchmark "
                        f"run is {latest_run}: regenerate it with `kernelpilot task map`")
    if latest_run and perf_map.get("run_id") != latest_run:
        problems.append(f"the performance map is from run {perf_map.get('run_id')}, the latest run is {latest_run}")
    return problems
