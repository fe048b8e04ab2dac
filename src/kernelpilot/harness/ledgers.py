"""The task's append-only ledgers (attempts.jsonl, results.csv) and the Markdown ledgers rendered from them."""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from kernelpilot import schemas
from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import append_jsonl, atomic_write_text, read_jsonl

RESULT_COLUMNS = (
    "run_id", "timestamp", "task", "op", "case", "impl", "impl_kind", "correct",
    "device_us_p50", "device_us_p10", "device_us_p90", "host_us_p50", "host_us_p10", "host_us_p90",
    "dobench_us_p50", "bytes", "gbps", "copy_fraction", "flops", "tflops", "compute_fraction", "speedup_device", "speedup_host", "speedup_dobench",
    "target_us", "meets_target", "gpu", "sm_count", "driver", "cuda", "torch", "triton", "sm_clock_mhz",
    "mem_clock_mhz", "commit",
)
ATTEMPTS = Path("ledgers/attempts.jsonl")
RESULTS = Path("benchmarks/results.csv")
ATTEMPT_LEDGER = Path("ledgers/attempt-ledger.md")
OPTIMIZATION_LEDGER = Path("ledgers/optimization-ledger.md")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def read_attempts(task_root: Path) -> list[dict]:
    return [record for _, record in read_jsonl(task_root / ATTEMPTS)]


def append_attempt(task_root: Path, record: dict) -> None:
    schemas.validate(record, "attempt", f"attempt for {record.get('candidate')}")
    append_jsonl(task_root / ATTEMPTS, record)


def read_results(task_root: Path) -> list[dict]:
    path = task_root / RESULTS
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != RESULT_COLUMNS:
            raise KernelPilotError(f"{path}: header does not match the results format "
                                   f"(expected {len(RESULT_COLUMNS)} columns starting run_id,timestamp,task)")
        return list(reader)


def append_results(task_root: Path, rows: list[dict]) -> None:
    """Append whole rows in one write; the header is written once, when the file is new."""
    path = task_root / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, extrasaction="raise", lineterminator="\n")
    fresh = not path.exists() or path.stat().st_size == 0
    if fresh:
        writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column)) for column in RESULT_COLUMNS})
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def own_model_rows(rows: list[dict], arch: str) -> list[dict]:
    """The rows measured on the task's own GPU model: the arch's name as a word of the GPU's, "H200" in
    "NVIDIA H200" but not in "NVIDIA GH200 480GB" (an H100-class chip)."""
    own_model = re.compile(rf"\b{re.escape(arch)}\b", re.IGNORECASE)
    return [row for row in rows if own_model.search(row["gpu"])]


def headline_run_id(rows: list[dict], arch: str) -> str | None:
    """The run a task's map, dispatcher and report stand on: the newest on the task's own GPU model when there is
    one, else the newest. A run on another chip of the same sm (an H100 timing an H200 task) stays in the ledger
    as evidence without displacing the target chip's."""
    return (own_model_rows(rows, arch) or rows)[-1]["run_id"] if rows else None


def problems(task_root: Path) -> list[str]:
    """Every schema or format violation in the task's ledgers, each naming file and line."""
    found: list[str] = []
    try:
        for number, record in read_jsonl(task_root / ATTEMPTS):
            found += [f"{ATTEMPTS}:{number}: {p}" for p in schemas.schema_errors(record, "attempt")]
    except KernelPilotError as exc:
        found.append(str(exc))
    try:
        rows = read_results(task_root)
    except KernelPilotError as exc:
        return found + [str(exc)]
    for number, row in enumerate(rows, start=2):
        if None in row or any(value is None for value in row.values()):
            found.append(f"{RESULTS}:{number}: wrong number of cells")
            continue
        for column in ("device_us_p50", "host_us_p50"):
            if row[column] and not _is_number(row[column]):
                found.append(f"{RESULTS}:{number}: {column} is not a number ({row[column]!r})")
        if row["impl_kind"] not in ("candidate", "baseline", "ceiling"):
            found.append(f"{RESULTS}:{number}: impl_kind {row['impl_kind']!r} is not candidate|baseline|ceiling")
        if not row["gpu"]:
            found.append(f"{RESULTS}:{number}: the environment columns are empty")
    perf_map = task_root / "benchmarks" / "performance-map.json"
    if perf_map.exists():
        from kernelpilot.fsutil import read_json

        found += [f"benchmarks/performance-map.json: {p}"
                  for p in schemas.schema_errors(read_json(perf_map), "performance-map")]
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(task_root: Path) -> None:
    """Regenerate attempt-ledger.md and optimization-ledger.md from attempts.jsonl (never edited by hand)."""
    attempts = read_attempts(task_root)
    atomic_write_text(task_root / ATTEMPT_LEDGER, _attempt_ledger(attempts))
    atomic_write_text(task_root / OPTIMIZATION_LEDGER, _optimization_ledger(attempts))


def _fmt(value, pattern: str = "{:.3g}") -> str:
    return "" if value is None else pattern.format(value)


def _md(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _attempt_ledger(attempts: list[dict]) -> str:
    lines = ["# Attempt ledger", "", "Every attempt, failed ones included. Rendered from `attempts.jsonl`.", "",
             "| when | candidate | stage | status | parent | mutation | worst rel err | geomean device speedup | "
             "failures | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for a in attempts:
        correctness = a.get("correctness") or {}
        cases = correctness.get("cases", {})
        errors = [c.get("rel_err") for c in cases.values() if c.get("rel_err") is not None]
        failed = [f"{name}: {c.get('error')}" for name, c in cases.items() if not c.get("passed")]
        timing = a.get("timing") or {}
        lines.append("| " + " | ".join([
            a["timestamp"], a["candidate"], a["stage"], a["status"], _md(a.get("parent")), _md(a.get("mutation")),
            _fmt(max(errors) if errors else None), _fmt(timing.get("geomean_speedup_device"), "{:.3f}x"),
            _md("; ".join(failed)[:300]), _md(a.get("commit"))]) + " |")
    return "\n".join(lines) + "\n"


def _optimization_ledger(attempts: list[dict]) -> str:
    """Only correct versions whose measured device-time geomean beat every earlier one."""
    lines = ["# Optimization ledger", "",
             "Correct versions with a measured improvement of the geomean device-time speedup over the faster "
             "SGLang, in order. Rendered from `attempts.jsonl`.", "",
             "| when | candidate | parent | mutation | motivation | evidence | geomean device | host | do_bench | run |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    best = 0.0
    for a in attempts:
        timing = a.get("timing") or {}
        speedup = timing.get("geomean_speedup_device")
        if a["stage"] != "bench" or speedup is None or speedup <= best:
            continue
        if not _correct_before(attempts, a):
            continue
        best = speedup
        lines.append("| " + " | ".join([
            a["timestamp"], a["candidate"], _md(a.get("parent")), _md(a.get("mutation")),
            _md((a.get("motivation") or "")[:200]), _md("; ".join(a.get("evidence", []))[:200]),
            f"{speedup:.3f}x", _fmt(timing.get("geomean_speedup_host"), "{:.2f}x"),
            _fmt(timing.get("geomean_speedup_dobench"), "{:.3f}x"), timing["run_id"]]) + " |")
    return "\n".join(lines) + "\n"


def _correct_before(attempts: list[dict], bench: dict) -> bool:
    checks = [a for a in attempts if a["candidate"] == bench["candidate"] and a["stage"] == "check"
              and a["timestamp"] <= bench["timestamp"]]
    return bool(checks) and checks[-1]["status"] == "correct"
