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
        rows.append({"task": task.name, "arch": task.arch, "twin_of": task.twin_of, "status": _status(task),
                     "cases": len(task.cases), "best_geomean_device": _best_geomean(task)})
    return rows


def _status(task) -> str:
    perf_map = task.path("benchmarks", "performance-map.json")
    if perf_map.exists():
        winners = {c["winner"] for op in read_json(perf_map)["ops"].values() for c in op["cases"]}
        if winners & set(task.candidate_names()):
            return "promoted"
    checks = [a for a in ledgers.read_attempts(task.root) if a["stage"] == "check" and a["status"] == "correct"
              and a["candidate"] in task.candidate_names()]
    if any(not (a["correctness"] or {}).get("interpret") for a in checks):
        return "candidate correct"
    return "candidate correct (CPU interpreter)" if checks else "baseline only"


def _best_geomean(task) -> float | None:
    perf_map = task.path("benchmarks", "performance-map.json")
    return read_json(perf_map)["summary"]["geomean_speedup_device"] if perf_map.exists() else None
