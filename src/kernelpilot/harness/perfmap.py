"""The performance map over W, the shape-bucketed dispatcher, and the tuning decisions behind it."""

from __future__ import annotations

import math
import os
from pathlib import Path

from kernelpilot import schemas
from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_json, atomic_write_text
from kernelpilot.harness import environment, ledgers
from kernelpilot.harness.bucketing import bucket_key
from kernelpilot.harness.spec import Case, Task

TEMPLATES = Path(__file__).parent / "templates"


def case_bucket(case: Case, task: Task) -> str:
    """The dispatcher's bucket for a case, from meta tensors shaped like the case's arguments."""
    import torch

    from kernelpilot.harness.inputs import DTYPES

    values = {}
    for name in task.ops[case.op].parameter_names:
        spec = case.args.get(name)
        values[name] = (torch.empty(spec["shape"], dtype=DTYPES[spec["dtype"]], device="meta")
                        if isinstance(spec, dict) else spec)
    return bucket_key(values)


def geomean(values: list[float], weights: list[float] | None = None) -> float | None:
    pairs = [(v, w) for v, w in zip(values, weights or [1.0] * len(values)) if v and v > 0]
    if not pairs:
        return None
    return math.exp(sum(w * math.log(v) for v, w in pairs) / sum(w for _, w in pairs))


def _number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def gpu_checks(task_root: Path, attempts: list[dict] | None = None) -> list[dict]:
    """Every GPU check attempt, oldest first (interpreter checks cover small cases only and do not qualify), of
    the task's ledger or of `attempts` already read from it."""
    return [a for a in (ledgers.read_attempts(task_root) if attempts is None else attempts)
            if a["stage"] == "check" and not (a.get("correctness") or {}).get("interpret", False)]


def case_checks(task_root: Path, attempts: list[dict] | None = None) -> dict[str, tuple[str, dict[str, bool]]]:
    """impl -> (status of its latest GPU check, case -> passed in the latest GPU check that covered the case): a
    narrowed check re-judges its own cases and leaves the others' verdicts standing."""
    checks: dict[str, tuple[str, dict[str, bool]]] = {}
    for attempt in gpu_checks(task_root, attempts):
        passed = dict(checks.get(attempt["candidate"], ("", {}))[1])
        passed.update({case: bool(verdict.get("passed")) for case, verdict in
                       ((attempt.get("correctness") or {}).get("cases") or {}).items()})
        checks[attempt["candidate"]] = (attempt["status"], passed)
    return checks


def _passed_check(checks: dict[str, tuple[str, dict[str, bool]]], impl: str, case_id: str) -> bool:
    """Eligible only when the latest GPU check passed as a whole (an implementation wrong anywhere is wrong) and the
    latest check of this case passed."""
    status, passed = checks.get(impl, ("", {}))
    return status == "correct" and passed.get(case_id, False)


def build(task: Task, run_id: str | None = None) -> dict:
    """The map of one run (`run_id`), or by default of the headline run (the newest on the task's own GPU model,
    `ledgers.headline_run_id`), where a case or an implementation that run left out (a narrowed `task run --case
    ...` or `--impl ...`) keeps its rows from the latest earlier run on the same GPU model that timed it. Each case
    records the run its target comes from, each implementation the run its figures come from."""
    rows = ledgers.read_results(task.root)
    if not rows:
        raise KernelPilotError(f"{task.name}: no benchmark results yet (run `kernelpilot task bench` first)")
    latest = run_id or ledgers.headline_run_id(rows, task.arch)
    run_rows = [r for r in rows if r["run_id"] == latest]
    if not run_rows:
        raise KernelPilotError(f"{task.name}: no results for run {latest}")
    checks = case_checks(task.root)
    by_case = case_rows(rows, latest, carry_earlier=run_id is None)
    ops = {}
    for op in task.ops:
        ops[op] = _map_op(task, op, by_case, checks)
    perf_map = {"task": task.name, "run_id": latest, "generated_at": ledgers.now_iso(),
                "env": {k: run_rows[0][k] for k in environment.PROVENANCE_COLUMNS},
                "ops": ops, "summary": _summary(task, ops)}
    schemas.validate(perf_map, "performance-map", "performance map")
    return perf_map


def case_rows(rows: list[dict], run_id: str, carry_earlier: bool) -> dict[str, dict[str, dict]]:
    """case -> impl -> result row, each from the newest run (run_id first, then earlier ones when carry_earlier)
    with a row for that case and implementation, the newest run's rows first; runs on another GPU model never
    fill in."""
    gpu = next(r["gpu"] for r in rows if r["run_id"] == run_id)
    runs = [run_id]
    if carry_earlier:
        runs += [r for r in reversed(list(dict.fromkeys(row["run_id"] for row in rows))) if r != run_id]
    by_run: dict[str, dict[str, dict[str, dict]]] = {}
    for row in rows:
        if row["gpu"] == gpu and row["impl_kind"] != "ceiling":
            by_run.setdefault(row["run_id"], {}).setdefault(row["case"], {})[row["impl"]] = row
    by_case: dict[str, dict[str, dict]] = {}
    for run in runs:
        for case, impls in by_run.get(run, {}).items():
            merged = by_case.setdefault(case, {})
            for impl, row in impls.items():
                merged.setdefault(impl, row)
    return by_case


def map_rows(all_rows: list[dict], perf_map: dict) -> list[dict]:
    """The result rows a map was built from: each implementation's rows from the run they came from, and for each
    case the newest ceilings among those runs and the map's own (a narrowed run measures only its cases')."""
    chosen = {(case["case"], impl, run) for case, impl, run in impl_runs(perf_map)}
    runs = {run for _case, _impl, run in chosen} | {perf_map["run_id"]}
    ceilings = {(r["case"], r["impl"]): r for r in all_rows if r["impl_kind"] == "ceiling" and r["run_id"] in runs}
    return [r for r in all_rows if r["impl_kind"] != "ceiling" and (r["case"], r["impl"], r["run_id"]) in chosen] \
        + list(ceilings.values())


def impl_runs(perf_map: dict):
    """(case entry, implementation, the run its figures come from) for every timing in the map."""
    for op in perf_map["ops"].values():
        for case in op["cases"]:
            for impl, figures in case["impls"].items():
                yield case, impl, figures.get("run_id") or case.get("run_id") or perf_map["run_id"]


def _map_op(task: Task, op: str, by_case: dict[str, dict[str, dict]],
            checks: dict[str, tuple[str, dict[str, bool]]]) -> dict:
    cases, buckets = [], {}
    for case in task.cases_for(op):
        rows = by_case.get(case.id, {})
        impls = {impl: {"device_us": _number(r["device_us_p50"]), "host_us": _number(r["host_us_p50"]),
                        "dobench_us": _number(r["dobench_us_p50"]), "run_id": r["run_id"],
                        "correct": r["correct"] == "true" and _passed_check(checks, impl, case.id)}
                 for impl, r in rows.items() if r["impl_kind"] != "ceiling"}
        # A run that timed only candidates has no target for the case: it comes from the run that timed baselines.
        target = next((r for r in rows.values() if _number(r.get("target_us")) is not None),
                      next(iter(rows.values()), None))
        cases.append({"case": case.id, "run_id": target["run_id"] if target else None,
                      "bucket": case_bucket(case, task), "winner": "", "impls": impls,
                      "target_us": _number(target["target_us"]) if target else None, "meets_target": None,
                      "fastest_target_baseline": _fastest_target(task, impls),
                      "weight": case.weight})
    host_preferred = {}
    for key in sorted({c["bucket"] for c in cases}):
        buckets[key], displaced = _bucket_winner(task, [c for c in cases if c["bucket"] == key])
        if displaced:
            host_preferred[key] = displaced
    for case in cases:
        _judge(task, case, buckets[case["bucket"]])
    return {"cases": cases, "buckets": buckets, "host_preferred": host_preferred}


def _fastest_target(task: Task, impls: dict) -> str | None:
    targets = [(i["device_us"], name) for name, i in impls.items()
               if task.baselines.get(name) and task.baselines[name].target and i["correct"] and i["device_us"]]
    return min(targets)[1] if targets else None


def _bucket_winner(task: Task, cases: list[dict]) -> tuple[str, str | None]:
    """Fastest correct implementation (geomean device time) that is slower than no target baseline on any case, or
    one nearly as fast that is lighter on the host (`_lighter_on_host`); with it, the device-fastest it displaced."""
    names = set.intersection(*(set(c["impls"]) for c in cases))
    eligible = []
    for name in sorted(names):
        entries = [c["impls"][name] for c in cases]
        if not all(e["correct"] and e["device_us"] for e in entries):
            continue
        never_slower = all(
            c["fastest_target_baseline"] is None
            or c["impls"][name]["device_us"] <= c["impls"][c["fastest_target_baseline"]]["device_us"]
            for c in cases)
        if never_slower:
            eligible.append((geomean([e["device_us"] for e in entries], [c["weight"] for c in cases]), name))
    if eligible:
        fastest = min(eligible)[1]
        lighter = _lighter_on_host(task, cases, eligible, fastest)
        return (lighter, fastest) if lighter != fastest else (fastest, None)
    fastest = [c["fastest_target_baseline"] for c in cases if c["fastest_target_baseline"]]
    return (fastest[0] if fastest else task.fallback), None


def _lighter_on_host(task: Task, cases: list[dict], eligible: list[tuple[float, str]], fastest: str) -> str:
    """Where the task allows it (targets.prefer_lower_host_cost_within), the implementation that meets the host
    target on more of the bucket's cases than the fastest does, among the eligible ones whose geomean device time
    is within that fraction of the fastest's and that meet every device target the fastest meets: a pipeline that
    issues calls from Python pays the host cost on every call, and this trade gives up no device target. The most
    host targets met wins, then device time; the fastest where none qualifies."""
    within = task.targets["prefer_lower_host_cost_within"]
    if not within:
        return fastest
    best_device = min(eligible)[0]

    def meets_device(name: str, case: dict) -> bool:
        return case["target_us"] is None or case["impls"][name]["device_us"] <= case["target_us"]

    def host_targets_met(name: str) -> int:
        return sum(1 for c in cases if _meets_host_target(task, c, c["impls"][name]))

    contenders = [(-host_targets_met(name), device, name) for device, name in eligible
                  if device <= best_device * (1 + within)
                  and all(meets_device(name, c) for c in cases if meets_device(fastest, c))]
    best = min(contenders)
    return best[2] if -best[0] > host_targets_met(fastest) else fastest


def _host_target_us(task: Task, case: dict) -> float | None:
    target = case["fastest_target_baseline"]
    base_host = case["impls"][target]["host_us"] if target else None
    return base_host * task.targets["host_cost_fraction"] if base_host else None


def _meets_host_target(task: Task, case: dict, figures: dict) -> bool | None:
    target_us, host_us = _host_target_us(task, case), figures.get("host_us")
    return host_us <= target_us if host_us and target_us else None


def _judge(task: Task, case: dict, winner: str) -> None:
    case["winner"] = winner
    chosen = case["impls"].get(winner, {})
    device_us, host_us = chosen.get("device_us"), chosen.get("host_us")
    target = case["fastest_target_baseline"]
    base = case["impls"].get(target) if target else None
    case["meets_target"] = (device_us <= case["target_us"]) if device_us and case["target_us"] else None
    case["host_target_us"] = _host_target_us(task, case)
    case["meets_host_target"] = _meets_host_target(task, case, chosen)
    case["speedup_device"] = base["device_us"] / device_us if base and device_us else None
    case["speedup_host"] = base["host_us"] / host_us if base and host_us and base["host_us"] else None
    case["speedup_dobench"] = (base["dobench_us"] / chosen["dobench_us"]
                               if base and base.get("dobench_us") and chosen.get("dobench_us") else None)


def _summary(task: Task, ops: dict) -> dict:
    cases = [c for op in ops.values() for c in op["cases"]]
    weights = [c["weight"] for c in cases]

    def mean_of(key: str) -> float | None:
        return geomean([c[key] for c in cases], weights)

    return {"geomean_speedup_device": mean_of("speedup_device"), "geomean_speedup_host": mean_of("speedup_host"),
            "geomean_speedup_dobench": mean_of("speedup_dobench"),
            "cases": sum(1 for c in cases if any(i["device_us"] for i in c["impls"].values())),  # measured ones
            "cases_meeting_target": sum(1 for c in cases if c["meets_target"]),
            "cases_meeting_host_target": sum(1 for c in cases if c["meets_host_target"]),
            "workload_cases": len(task.cases)}


def write(task: Task, perf_map: dict) -> list[Path]:
    """performance-map.json, dispatch.py and tuning-decisions.md, each written atomically."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    table = {op: dict(sorted(data["buckets"].items())) for op, data in perf_map["ops"].items()}
    candidates = {name: os.path.relpath(task.candidate_path(name), task.root) for name in task.candidate_names()}
    helper_folders = tuple(os.path.relpath(folder, task.root) for folder in task.candidate_folders)
    dispatch = environment.get_template("dispatch.py.j2").render(
        task=task.name, arch=task.arch, run_id=perf_map["run_id"], fallback=task.fallback,
        candidates=repr(candidates), helper_folders=repr(helper_folders), table=repr(table),
        ops=list(task.ops.values()))
    decisions = environment.get_template("tuning-decisions.md.j2").render(task=task, perf_map=perf_map)
    written = [atomic_write_json(task.path("benchmarks", "performance-map.json"), perf_map),
               atomic_write_text(task.path("benchmarks", "dispatch.py"), dispatch),
               atomic_write_text(task.path("benchmarks", "tuning-decisions.md"), decisions)]
    return written
