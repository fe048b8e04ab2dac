"""check, bench, map and run: the harness's verbs, each over isolated workers, each leaving ledger records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness import environment, impls, ledgers, perfmap
from kernelpilot.harness.isolation import WorkerResult, run_worker
from kernelpilot.harness.spec import ARCH_CAPABILITY, Task

GPU_ONLY_BASELINES = ("sglang", "torch_compile", "library")
Progress = Callable[[str, str, dict], None]  # (impl, case id, result)


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@dataclass
class CheckOutcome:
    interpret: bool
    attempts: list[dict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # impl -> why it was not checked here


def check(task: Task, names: list[str] | None = None, interpret: bool = False, case_ids: list[str] | None = None,
          trials: int | None = None, progress: Progress | None = None) -> CheckOutcome:
    """Correctness of each implementation over W (the small cases under the interpreter), one attempt record each."""
    if not interpret and not cuda_available():
        interpret = True
    outcome = CheckOutcome(interpret=interpret)
    cases = task.cases_for(interpret_only=interpret and not case_ids, ids=case_ids)
    if not cases:
        raise KernelPilotError(f"{task.name}: no cases to check"
                               + (" (no case is marked `interpret: true`)" if interpret else ""))
    env = environment.collect()
    commit = environment.git_commit(task.root)
    for name in names or impls.implementation_names(task):
        baseline = task.baselines.get(name)
        if interpret and baseline and baseline.kind in GPU_ONLY_BASELINES:
            outcome.skipped[name] = f"{baseline.kind} baseline needs a GPU"
            continue
        if interpret and impls.requires_cuda(task, name):
            outcome.skipped[name] = "declares REQUIRES_CUDA (a CUDA extension)"
            continue
        request = {"stage": "check", "task": str(task.root), "impl": name, "device": "cpu" if interpret else "cuda",
                   "trials": trials or task.correctness.get("trials", 3), "seed": task.correctness.get("seed", 20260)}
        result = run_worker(request, [c.id for c in cases], task.correctness.get("timeout_s", 300.0), interpret,
                            on_case=(lambda case_id, r, n=name: progress(n, case_id, r)) if progress else None)
        attempt = _check_attempt(task, name, result, interpret, env, commit)
        ledgers.append_attempt(task.root, attempt)
        outcome.attempts.append(attempt)
    ledgers.render(task.root)
    return outcome


@dataclass
class CompileOutcome:
    sm: str
    results: dict[str, WorkerResult] = field(default_factory=dict)  # candidate -> its cases' compile results
    skipped: dict[str, str] = field(default_factory=dict)


def compile_candidates(task: Task, names: list[str] | None = None, case_ids: list[str] | None = None,
                       progress: Progress | None = None) -> CompileOutcome:
    """Each candidate's Triton launches on the small cases, compiled for the task's arch on this machine (a CPU
    will do). Nothing is written to the ledgers: a compile is no measurement."""
    cases = task.cases_for(interpret_only=not case_ids, ids=case_ids)
    if not cases:
        raise KernelPilotError(f"{task.name}: no cases to compile for (no case is marked `interpret: true`)")
    candidates = task.candidate_names()
    unknown = [n for n in names or [] if n not in candidates and n not in task.baselines]
    if unknown:
        raise KernelPilotError(f"{task.name}: no candidate or baseline named {unknown[0]!r}")
    outcome = CompileOutcome(task.sm)
    for name in names or candidates:
        if name in task.baselines:
            outcome.skipped[name] = "a baseline: its kernels are not ours to compile"
            continue
        if impls.requires_cuda(task, name):
            outcome.skipped[name] = "declares REQUIRES_CUDA (a CUDA extension)"
            continue
        request = {"stage": "compile", "task": str(task.root), "impl": name, "device": "cpu"}
        outcome.results[name] = run_worker(
            request, [c.id for c in cases], task.correctness.get("timeout_s", 300.0), interpret=False,
            on_case=(lambda case_id, r, n=name: progress(n, case_id, r)) if progress else None)
    return outcome


def compile_failure(result: WorkerResult) -> str | None:
    """Why a candidate's compile check failed, or None: a candidate that launched no Triton kernel on any case
    showed nothing, and fails too."""
    if result.error:
        return result.error
    failed = next((f"{case}: {c['error']}" for case, c in result.cases.items() if not c["passed"]), None)
    if failed:
        return failed
    if not any(c.get("kernels") for c in result.cases.values()):
        return "launched no Triton kernel on any case"
    return None


def compiled_everywhere(result: WorkerResult) -> bool:
    return compile_failure(result) is None


def _lineage(task: Task, name: str) -> dict:
    if name in task.baselines:
        baseline = task.baselines[name]
        version = f" {baseline.version}" if baseline.version else ""
        return {"parent": None, "mutation": "baseline", "motivation": f"{baseline.kind}{version} baseline",
                "evidence": [], "source": None}
    return impls.candidate_lineage(task, name)


def _check_attempt(task: Task, name: str, result: WorkerResult, interpret: bool, env: dict, commit: str | None) -> dict:
    cases = {case_id: {k: r.get(k) for k in ("passed", "rel_err", "max_abs", "allowed_rel", "baseline_rel_err",
                                             "error")}
             for case_id, r in result.cases.items()}
    for entry in cases.values():
        entry["passed"] = bool(entry["passed"])
    seeds = sorted({s for r in result.cases.values() for s in r.get("seeds", [])})
    if result.error is not None:
        status = "error"
    elif any(r.get("status") == "timeout" for r in result.cases.values()):
        status = "timeout"
    elif cases and all(c["passed"] for c in cases.values()):
        status = "correct"
    else:
        status = "incorrect"
    correctness = {"passed": status == "correct", "interpret": interpret, "seeds": seeds, "cases": cases}
    if result.error is not None:
        correctness["error"] = result.error
    return {"attempt_id": ledgers.new_id(), "timestamp": ledgers.now_iso(), "task": task.name, "candidate": name,
            "stage": "check", "status": status, **_lineage(task, name), "correctness": correctness, "timing": None,
            "env": {**env, "impl": result.impl_info}, "commit": commit}


def require_gpu_for(task: Task) -> None:
    """Timing needs a CUDA GPU of the task's architecture; numbers from another chip would be mistaken for it."""
    if not cuda_available():
        raise KernelPilotError("timings need a CUDA GPU and this machine has none "
                               "(`kernelpilot task check --interpret` checks correctness on the CPU)")
    import torch

    refusal = wrong_arch_refusal(task, tuple(torch.cuda.get_device_capability(0)), torch.cuda.get_device_name(0))
    if refusal:
        raise KernelPilotError(refusal)


def wrong_arch_refusal(task: Task, capability: tuple[int, int], gpu_name: str) -> str | None:
    """Why this GPU must not time the task (it is not of the task's arch), or None when it may."""
    if capability == ARCH_CAPABILITY[task.arch]:
        return None
    return (f"{task.name} targets {task.arch} ({task.sm}) but this GPU, {gpu_name}, is sm_{capability[0]}"
            f"{capability[1]}: refusing to produce numbers that would be mistaken for {task.arch} numbers")


@dataclass
class BenchOutcome:
    run_id: str
    rows: list[dict]
    calibration: dict
    failures: dict[str, str] = field(default_factory=dict)  # impl -> why it produced no timings


def bench(task: Task, names: list[str] | None = None, case_ids: list[str] | None = None,
          progress: Progress | None = None) -> BenchOutcome:
    require_gpu_for(task)
    cases = task.cases_for(ids=case_ids)
    calibrated = run_worker({"stage": "calibrate", "task": str(task.root), "seed": 0, "copy_cases": [c.id for c in cases]},
                            ["calibrate"], 300.0 + 5.0 * len(cases), interpret=False)
    calibration = calibrated.calibration
    if calibration is None:
        why = calibrated.error or calibrated.cases.get("calibrate", {}).get("error") or "no figures came back"
        raise KernelPilotError(f"calibration (copy ceiling, empty kernel) failed on this GPU: {why}")
    results: dict[str, WorkerResult] = {}
    for name in names or impls.implementation_names(task):
        request = {"stage": "bench", "task": str(task.root), "impl": name, "seed": task.correctness.get("seed", 20260)}
        results[name] = run_worker(request, [c.id for c in cases], task.correctness.get("timeout_s", 300.0), False,
                                   on_case=(lambda case_id, r, n=name: progress(n, case_id, r)) if progress else None)
    outcome = BenchOutcome(ledgers.new_id(), [], calibration)
    outcome.failures = {name: r.error for name, r in results.items() if r.error}
    if calibration.get("same_size_copy_error"):
        outcome.failures["copy_same_size"] = calibration["same_size_copy_error"]
    commit = environment.git_commit(task.root)
    for case in cases:
        outcome.rows += _case_rows(task, case.id, case.op, results, calibration, outcome.run_id, commit)
    ledgers.append_results(task.root, outcome.rows)
    for name, result in results.items():
        if name in task.baselines or result.error:
            continue
        ledgers.append_attempt(task.root, _bench_attempt(task, name, outcome, calibration["env"], commit))
    ledgers.render(task.root)
    return outcome


def _case_rows(task: Task, case_id: str, op: str, results: dict[str, WorkerResult], calibration: dict, run_id: str,
               commit: str | None) -> list[dict]:
    timed = {name: r.cases[case_id] for name, r in results.items() if case_id in r.cases}
    good = {name: t for name, t in timed.items() if t.get("correct") and t.get("device")}
    case_bytes = next((t["bytes"] for t in timed.values() if t.get("bytes")), None)
    case_flops = next((t["flops"] for t in timed.values() if t.get("flops")), None)
    copy_gbps, empty_us = calibration["copy_gbps"], calibration["empty_us"]
    matmul_tflops = calibration.get("matmul_tflops", {}).get(task.data["cost"][op].get("flops_dtype", "bfloat16"))
    compute_floor_us = case_flops / (matmul_tflops * 1e6) if case_flops and matmul_tflops else 0.0
    target_names = [n for n in good if task.baselines.get(n) and task.baselines[n].target]
    fastest = min(target_names, key=lambda n: good[n]["device"]["p50"]) if target_names else None
    targets = task.targets
    target_us = None
    if fastest:
        floor_us = case_bytes / (targets["copy_ceiling_fraction"] * copy_gbps * 1e3) if case_bytes else 0.0
        target_us = max(good[fastest]["device"]["p50"] / targets["speedup_over_target_baseline"], floor_us,
                        compute_floor_us, targets["empty_kernel_factor"] * empty_us)
    base = {"run_id": run_id, "timestamp": ledgers.now_iso(), "task": task.name, "op": op, "case": case_id,
            "target_us": target_us, **{k: calibration["env"].get(k) for k in environment.ENV_COLUMNS},
            "commit": commit}
    rows = []
    for name, t in timed.items():
        device = t.get("device") or {}
        host = t.get("host") or {}
        row = {**base, "impl": name, "impl_kind": "baseline" if name in task.baselines else "candidate",
               "correct": bool(t.get("correct")), "device_us_p50": device.get("p50"),
               "device_us_p10": device.get("p10"), "device_us_p90": device.get("p90"),
               "host_us_p50": host.get("p50"), "host_us_p10": host.get("p10"), "host_us_p90": host.get("p90"),
               "dobench_us_p50": t.get("dobench_us"), "bytes": t.get("bytes")}
        if device.get("p50") and t.get("bytes"):
            row["gbps"] = t["bytes"] / (device["p50"] * 1e3)
            row["copy_fraction"] = row["gbps"] / copy_gbps
        if device.get("p50") and case_flops:
            row["flops"] = case_flops
            row["tflops"] = case_flops / (device["p50"] * 1e6)
            row["compute_fraction"] = row["tflops"] / matmul_tflops if matmul_tflops else None
        if fastest and device.get("p50"):
            reference = good[fastest]
            row["speedup_device"] = reference["device"]["p50"] / device["p50"]
            row["speedup_host"] = reference["host"]["p50"] / host["p50"] if host.get("p50") else None
            row["speedup_dobench"] = reference["dobench_us"] / t["dobench_us"] if t.get("dobench_us") else None
            row["meets_target"] = bool(t.get("correct")) and device["p50"] <= target_us
        rows.append(row)
    if case_bytes:
        rows.append({**base, "impl": "copy_ceiling", "impl_kind": "ceiling", "correct": True, "bytes": case_bytes,
                     "device_us_p50": case_bytes / (copy_gbps * 1e3), "gbps": copy_gbps, "copy_fraction": 1.0})
    copy = calibration.get("same_size_copy", {}).get(case_id)
    if case_bytes and copy:
        rows.append({**base, "impl": "copy_same_size", "impl_kind": "ceiling", "correct": True, "bytes": case_bytes,
                     "device_us_p50": copy["p50"], "device_us_p10": copy["p10"], "device_us_p90": copy["p90"],
                     "gbps": case_bytes / (copy["p50"] * 1e3), "copy_fraction": case_bytes / (copy["p50"] * 1e3) / copy_gbps})
    if compute_floor_us:
        rows.append({**base, "impl": "matmul_ceiling", "impl_kind": "ceiling", "correct": True, "flops": case_flops,
                     "device_us_p50": compute_floor_us, "tflops": matmul_tflops, "compute_fraction": 1.0})
    return rows


def _bench_attempt(task: Task, name: str, outcome: BenchOutcome, env: dict, commit: str | None) -> dict:
    mine = [r for r in outcome.rows if r["impl"] == name]
    weights = {c.id: c.weight for c in task.cases}

    def mean_of(column: str) -> float | None:
        usable = [r for r in mine if r.get(column)]
        return perfmap.geomean([r[column] for r in usable], [weights[r["case"]] for r in usable])

    timing = {"run_id": outcome.run_id, "cases": len(mine), "geomean_speedup_device": mean_of("speedup_device"),
              "geomean_speedup_host": mean_of("speedup_host"), "geomean_speedup_dobench": mean_of("speedup_dobench")}
    incorrect = [r["case"] for r in mine if not r["correct"]]
    return {"attempt_id": ledgers.new_id(), "timestamp": ledgers.now_iso(), "task": task.name, "candidate": name,
            "stage": "bench", "status": "incorrect" if incorrect else "benchmarked", **_lineage(task, name),
            "correctness": None, "timing": timing, "env": env, "commit": commit}


def build_map(task: Task, run_id: str | None = None) -> dict:
    perf_map = perfmap.build(task, run_id)
    perfmap.write(task, perf_map)
    return perf_map
