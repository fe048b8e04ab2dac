"""One line per task folder: arch, status (baseline only / candidate correct / promoted) and best geomean.

A twin's status and geomean come from its own ledgers and benchmarks only: its sibling's numbers are another chip's."""

from __future__ import annotations

from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_json
from kernelpilot.harness import ledgers
from kernelpilot.harness.spec import load_task


def summarize(root: Path) -> list[dict]:
    if not root.is_dir():
        raise KernelPilotError(f"{root}: no such folder")
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "task.yaml").is_file()):
        task = load_task(folder)
        map_path = task.path("benchmarks", "performance-map.json")
        perf_map = read_json(map_path) if map_path.exists() else None
        rows.append({"task": task.name, "arch": task.arch, "twin_of": task.twin_of, "status": _status(task, perf_map),
                     "cases": len(task.cases),
                     "best_geomean_device": perf_map["summary"]["geomean_speedup_device"] if perf_map else None})
    return rows


def _status(task, perf_map: dict | None) -> str:
    candidates = set(task.candidate_names())  # each call reads every candidate file: once per task
    if perf_map and {c["winner"] for op in perf_map["ops"].values() for c in op["cases"]} & candidates:
        return "promoted"
    checks = [a for a in ledgers.read_attempts(task.root) if a["stage"] == "check" and a["status"] == "correct"
              and a["candidate"] in candidates]
    if any(not (a["correctness"] or {}).get("interpret") for a in checks):
        return "candidate correct"
    return "candidate correct (CPU interpreter)" if checks else "baseline only"
