"""`task report`: the task's section of docs/results.md and its plot, rendered from the ledgers, never typed."""

from __future__ import annotations

import re
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_bytes, atomic_write_text, read_json
from kernelpilot.harness import gaps, ledgers, perfmap
from kernelpilot.harness.spec import Task

HEADER = "# Results\n\nEvery section below is rendered by `kernelpilot task report` from the task's ledgers.\n"


def section(task: Task, perf_map: dict, rows: list[dict], ledger_rows: list[dict] | None = None) -> str:
    """The task's block of results.md, from its performance map and the result rows it was built from (and the
    whole ledger's, read here unless given, to name the runs and implementations that its table leaves out)."""
    ledger_rows = ledgers.read_results(task.root) if ledger_rows is None else ledger_rows
    env, summary = perf_map["env"], perf_map["summary"]
    lines = [f"<!-- task:{task.name}:start -->", f"## {task.name}", "",
             f"Run `{perf_map['run_id']}` on **{env['gpu']}** ({env['sm_count']} SMs, driver {env['driver']}, "
             f"CUDA {env['cuda']}, torch {env['torch']}, triton {env['triton']}, SM clock {env['sm_clock_mhz']} MHz, "
             f"memory clock {env['mem_clock_mhz']} MHz, commit {env['commit']}).", ""]
    lines += earlier_runs_note(perf_map, rows)
    lines += other_gpu_note(perf_map, ledger_rows)
    lines += untimed_note(task, ledger_rows)
    copy, matmul = (next((r for r in rows if r["impl"] == name and r["run_id"] == perf_map["run_id"]), None)
                    for name in ("copy_ceiling", "matmul_ceiling"))
    if copy:
        lines += [f"Copy ceiling measured in the same run: {float(copy['gbps']):.0f} GB/s (bytes read + written).", ""]
    if matmul:
        lines += [f"Matmul ceiling measured in the same run (a large square cuBLAS matmul): "
                  f"{float(matmul['tflops']):.0f} TFLOP/s.", ""]
    by_case_impl = {(r["case"], r["impl"]): r for r in rows}
    lines += [f"**Outcome:** geomean device-time speedup over the best target baseline "
              f"{speedup(summary['geomean_speedup_device'])} (host cost {speedup(summary['geomean_speedup_host'])}, "
              f"do_bench {speedup(summary['geomean_speedup_dobench'])}); {summary['cases_meeting_target']}/"
              f"{summary['cases']} cases meet the device target and {summary.get('cases_meeting_host_target', 0)}/"
              f"{summary['cases']} the host target{partial_note(summary)}.", ""]
    lines += below_copy_note(perf_map, by_case_impl)
    lines += ["| case | winner | device µs | best target baseline µs | speedup | target µs | met | host µs | its host µs "
              "| do_bench µs | % copy ceiling | same-size copy µs |" + (" TFLOP/s | % matmul ceiling |" if matmul else ""),
              "|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if matmul else "")]
    for op in perf_map["ops"].values():
        for case in op["cases"]:
            winner = by_case_impl.get((case["case"], case["winner"]), {})
            base = by_case_impl.get((case["case"], case.get("fastest_target_baseline") or ""), {})
            fraction = winner.get("copy_fraction")
            lines.append("| " + " | ".join([
                case["case"], case["winner"], number(winner.get("device_us_p50")), number(base.get("device_us_p50")),
                speedup(case.get("speedup_device")), number(case["target_us"]), _yes(case["meets_target"]),
                number(winner.get("host_us_p50")), number(base.get("host_us_p50")), number(winner.get("dobench_us_p50")),
                percent(fraction), number(by_case_impl.get((case["case"], "copy_same_size"), {}).get("device_us_p50")),
                *([number(winner.get("tflops")), percent(winner.get("compute_fraction"))]
                                      if matmul else [])]) + " |")
    lines += ["", f"![{task.name}](img/{task.name}.png)", f"<!-- task:{task.name}:end -->"]
    return "\n".join(lines) + "\n"


def below_copy_note(perf_map: dict, by_case_impl: dict) -> list[str]:
    """Names the missed cases whose target is below the device time of a plain copy of their bytes (measured in
    the same run): no kernel that reads and writes those bytes once can meet them."""
    below = []
    for op in perf_map["ops"].values():
        for case in op["cases"]:
            copy = by_case_impl.get((case["case"], "copy_same_size"), {}).get("device_us_p50")
            if case["meets_target"] is False and copy not in (None, "") and float(copy) > case["target_us"]:
                below.append(f"{case['case']} (target {case['target_us']:.2f} µs, copy {float(copy):.2f} µs)")
    if not below:
        return []
    return [f"Missed cases whose target is below a same-size copy's device time: {'; '.join(below)}.", ""]


def earlier_runs_note(perf_map: dict, rows: list[dict]) -> list[str]:
    """Names the earlier runs whose figures stand for cases or implementations the map's run left out, with their
    commits."""
    runs: dict[str, set[str]] = {}
    for case, _impl, run in perfmap.impl_runs(perf_map):
        if run != perf_map["run_id"]:
            runs.setdefault(run, set()).add(case["case"])
    if not runs:
        return []
    commits = {r["run_id"]: r["commit"] for r in rows}
    listed = "; ".join(f"`{run}` (commit {commits.get(run, '?')}): {len(cases)} case(s)"
                       for run, cases in sorted(runs.items(), reverse=True))
    return ["Cases or implementations that run left out show their latest earlier timing on the same GPU model: "
            f"{listed}.", ""]


def other_gpu_note(perf_map: dict, ledger_rows: list[dict]) -> list[str]:
    """Names the runs on another GPU model than the map's, which its table leaves out but the ledgers keep."""
    runs: dict[str, tuple[str, set[str]]] = {}
    for row in ledger_rows:
        if row["gpu"] != perf_map["env"]["gpu"] and row["impl_kind"] != "ceiling":
            runs.setdefault(row["run_id"], (row["gpu"], set()))[1].add(row["case"])
    if not runs:
        return []
    listed = "; ".join(f"`{run}` on {gpu}: {len(cases)} case(s)" for run, (gpu, cases) in sorted(runs.items()))
    return [f"Runs on another GPU, in the ledgers (`benchmarks/results.csv`) but not in this table: {listed}.", ""]


def untimed_note(task: Task, ledger_rows: list[dict]) -> list[str]:
    """Names the implementations the ledgers hold no check and timing of on the task's GPU model for some cases of
    W (a candidate written since the last run there, a case added to W), which the table cannot show."""
    lacking = [gap for gap in gaps.survey(task, ledger_rows).impls if gap.missing]
    if not lacking:
        return []
    listed = "; ".join(f"`{gap.impl}` on {len(gap.missing)} of its {len(gap.covered)} case(s)" for gap in lacking)
    return [f"Not yet checked and timed on an {task.arch.upper()} (`kernelpilot task gaps` names the runs): "
            f"{listed}.", ""]


def partial_note(summary: dict) -> str:
    """Says when only some of W's cases have been timed (narrowed `task run --case ...` runs)."""
    return (f" ({summary['cases']} of the workload's {summary['workload_cases']} cases timed)"
            if summary["cases"] < summary["workload_cases"] else "")


def percent(fraction) -> str:
    return f"{100 * float(fraction):.0f}%" if fraction not in (None, "") else ""


def number(value) -> str:
    """Two decimals; a missing figure (None, or an empty CSV cell) prints as nothing."""
    return "" if value in (None, "") else f"{float(value):.2f}"


def speedup(value, missing: str = "n/a") -> str:
    return missing if value in (None, "") else f"{float(value):.2f}x"


def _yes(value) -> str:
    return "" if value is None else ("yes" if value else "**no**")


def write(task: Task, docs: Path) -> list[Path]:
    perf_map_path = task.path("benchmarks", "performance-map.json")
    if not perf_map_path.exists():
        raise KernelPilotError(f"{task.name}: no performance map yet (run `kernelpilot task run` on a GPU first)")
    perf_map = read_json(perf_map_path)
    ledger_rows = ledgers.read_results(task.root)
    rows = perfmap.map_rows(ledger_rows, perf_map)
    results_md = docs / "results.md"
    current = results_md.read_text(encoding="utf-8") if results_md.exists() else HEADER
    block = section(task, perf_map, rows, ledger_rows)
    pattern = re.compile(rf"<!-- task:{re.escape(task.name)}:start -->.*?<!-- task:{re.escape(task.name)}:end -->\n",
                         re.S)
    updated = pattern.sub(lambda _: block, current) if pattern.search(current) else current.rstrip("\n") + "\n\n" + block
    plot = docs / "img" / f"{task.name}.png"
    atomic_write_bytes(plot, _plot(task, perf_map, rows))
    return [atomic_write_text(results_md, updated), plot]


def _plot(task: Task, perf_map: dict, rows: list[dict]) -> bytes:
    """Per case: speedup over each baseline and fraction of the copy ceiling; device time vs host cost."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for op in perf_map["ops"].values() for c in op["cases"]]
    names = [c["case"] for c in cases]
    by = {(r["case"], r["impl"]): r for r in rows}
    baselines = list(task.baselines)
    figure, (speed, times) = plt.subplots(1, 2, figsize=(15, 0.45 * len(names) + 2.5))
    height = 0.8 / (len(baselines) + 1)
    for index, baseline in enumerate(baselines):
        values = []
        for case in cases:
            mine, theirs = by.get((case["case"], case["winner"])), by.get((case["case"], baseline))
            ok = mine and theirs and mine["device_us_p50"] and theirs["device_us_p50"]
            values.append(float(theirs["device_us_p50"]) / float(mine["device_us_p50"]) if ok else 0.0)
        speed.barh([i + index * height for i in range(len(names))], values, height, label=f"vs {baseline}")
    fractions = [float(by.get((c["case"], c["winner"]), {}).get("copy_fraction") or 0) for c in cases]
    speed.barh([i + len(baselines) * height for i in range(len(names))], fractions, height,
               label="fraction of copy ceiling", color="grey")
    speed.axvline(1.0, color="black", linewidth=0.8)
    speed.set_yticks(range(len(names)), names, fontsize=7)
    speed.set_xlabel("device-time speedup of the dispatched winner (x); grey: fraction of copy ceiling")
    speed.legend(fontsize=7)
    device = [float(by.get((c["case"], c["winner"]), {}).get("device_us_p50") or 0) for c in cases]
    host = [float(by.get((c["case"], c["winner"]), {}).get("host_us_p50") or 0) for c in cases]
    times.barh([i - 0.2 for i in range(len(names))], device, 0.4, label="device time (µs)")
    times.barh([i + 0.2 for i in range(len(names))], host, 0.4, label="host cost per call (µs)")
    times.set_xscale("log")
    times.set_yticks(range(len(names)), [""] * len(names))
    times.legend(fontsize=7)
    figure.suptitle(f"{task.name} on {perf_map['env']['gpu']} (run {perf_map['run_id']})", fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()
