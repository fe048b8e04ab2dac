"""`kernelpilot ncu digest`: every selected launch of a report, diagnosed, optionally against a baseline."""

from __future__ import annotations

from kernelpilot.errors import KernelPilotError
from kernelpilot.ncu import diagnose as d
from kernelpilot.ncu.classify import classify
from kernelpilot.ncu.report import KernelLaunch, read_report, select

# The numbers a baseline comparison reports a delta for: (key, label, unit, lower is better).
HEADLINE = (
    ("duration_ns", "duration", "ns", True),
    ("sm_pct", "SM throughput", "%", False),
    ("memory_pct", "memory throughput", "%", False),
    ("dram_pct", "DRAM throughput", "%", False),
    ("dram_bytes", "DRAM bytes", "byte", True),
    ("l2_pct", "L2 throughput", "%", False),
    ("l1_hit_pct", "L1 hit rate", "%", False),
    ("l2_hit_pct", "L2 hit rate", "%", False),
    ("tensor_pct", "tensor pipe", "%", False),
    ("fma_pct", "FMA pipe", "%", False),
    ("issue_active_pct", "issue slots busy", "%", False),
    ("theoretical_occupancy_pct", "theoretical occupancy", "%", False),
    ("achieved_occupancy_pct", "achieved occupancy", "%", False),
    ("registers", "registers per thread", "", True),
    ("waves", "waves per SM", "", False),
    ("local_sectors", "local-memory sectors", "sector", True),
)


def diagnose_launch(launch: KernelLaunch) -> dict:
    ev = d.Evidence(launch)
    return {
        "identity": d.identity(ev),
        "speed_of_light": d.speed_of_light(ev),
        "roofline": d.roofline(ev),
        "occupancy": d.occupancy(ev),
        "spills": d.spills(ev),
        "launch_shape": d.launch_shape(ev),
        "bank_conflicts": d.bank_conflicts(ev),
        "atomics": d.atomics(ev),
        "stalls": {"primary_family": ev.primary_family, "families": {
            family: rows[:5] for family, rows in ev.stalls.items()}},
        "rule_findings": d.rule_findings(launch),
        "bottleneck": classify(ev),
        "headline": {key: ev.q(key) for key, *_ in HEADLINE},
        "sources": launch.sources,
    }


def compare(current: dict, baseline: dict) -> dict:
    deltas = []
    for key, label, unit, lower_is_better in HEADLINE:
        now, before = current["headline"].get(key), baseline["headline"].get(key)
        if now is None or before is None:
            continue
        change = now - before
        relative = change / before if before else None
        better = None if change == 0 else (change < 0) == lower_is_better
        deltas.append({"metric": key, "label": label, "unit": unit, "baseline": before, "current": now,
                       "delta": change, "relative": relative, "better": better})
    was, now = baseline["bottleneck"]["class"], current["bottleneck"]["class"]
    return {"baseline_kernel": baseline["identity"]["kernel"], "deltas": deltas,
            "class_shift": {"from": was, "to": now, "shifted": was != now}}


def _pair(current: list[dict], baseline: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each current launch with the baseline launch of the same kernel name (or the only one there is)."""
    by_name = {}
    for item in baseline:
        by_name.setdefault(item["identity"]["kernel"], item)
    pairs = []
    for item in current:
        match = by_name.get(item["identity"]["kernel"])
        if match is None and len(baseline) == 1:
            match = baseline[0]
        pairs.append((item, match))
    return pairs


def digest(report: str, kernel: str | None = None, baseline: str | None = None) -> dict:
    launches = select(read_report(report), kernel, report)
    kernels = [diagnose_launch(launch) for launch in launches]
    result = {"report": str(report), "kernel_filter": kernel, "kernels": kernels, "baseline": None}
    if baseline:
        before = [diagnose_launch(launch) for launch in select(read_report(baseline), kernel, baseline)]
        result["baseline"] = str(baseline)
        for item, match in _pair(kernels, before):
            if match is None:
                raise KernelPilotError(f"{baseline}: no launch of {item['identity']['kernel']!r} to compare with")
            item["comparison"] = compare(item, match)
    return result
