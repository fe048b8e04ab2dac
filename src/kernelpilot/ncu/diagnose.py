"""From one profiled launch to a diagnosis: what limits the kernel, how sure, and the one edit to try next.

Each bottleneck class gets a score in [0, 1] from the launch's own numbers (which unit is nearest its peak,
what share of stall cycles a reason takes, how much of the GPU the grid can fill); the best score wins and the
margin over the runner-up sets the confidence. The scores are relative where they can be (DRAM against L2,
one stall reason against all of them) so that a kernel is judged against itself, not against fixed bars alone.
"""

from __future__ import annotations

import math
import re

from kernelpilot.ncu.quantities import BY_KEY, NOT_STALLS, Resolver, stall_families
from kernelpilot.ncu.report import KernelLaunch, RuleFinding
from kernelpilot.ncu.values import parse_number

CLASSES = ("compute-bound", "dram-bound", "l2-bound", "memory-latency-bound", "register-spill-bound",
           "occupancy-limited", "launch-bound", "tail-bound", "synchronization-bound", "front-end-bound")

REGISTERS_PER_SM = 65536
REGISTER_ALLOCATION_UNIT = 256  # registers are handed to a warp in chunks of this many
LATENCY_STALLS = ("long_scoreboard", "lg_throttle", "short_scoreboard")
SYNC_STALLS = ("barrier", "membar")
FRONT_END_STALLS = ("no_instruction", "branch_resolving", "imc_miss")

# Stall reasons as the rule messages of the details page describe them (used when no stall metric was exported).
_MESSAGE_REASONS = (
    ("scoreboard dependency on a l1tex", "long_scoreboard"),
    ("scoreboard dependency on an mio", "short_scoreboard"),
    ("at a cta barrier", "barrier"), ("waiting at a barrier", "barrier"), ("at a warp barrier", "barrier"),
    ("memory barrier", "membar"),
    ("l1 instruction queue for local and global", "lg_throttle"), ("mio (memory input/output)", "mio_throttle"),
    ("math pipe", "math_pipe_throttle"), ("fixed latency execution dependency", "wait"),
    ("next instruction", "no_instruction"), ("instruction cache", "no_instruction"),
    ("branch target", "branch_resolving"), ("immediate constant cache", "imc_miss"),
)
_MESSAGE_SHARE = re.compile(r"represents about ([\d.,]+)\s*% of the total", re.IGNORECASE)
_MESSAGE_CYCLES = re.compile(r"spends ([\d.,]+) cycles being stalled", re.IGNORECASE)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def human_bytes(value: float | None) -> str:
    if value is None:
        return "n/a"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f} B"


def human_time(ns: float | None) -> str:
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


class Evidence:
    """The numbers behind one launch's diagnosis, plus the evidence lines each class score cites."""

    def __init__(self, launch: KernelLaunch):
        self.launch = launch
        self.r = Resolver(launch)
        self.stalls = self._stall_tables()
        self.primary_family = next(iter(self.stalls), None)

    def q(self, key: str) -> float | None:
        return self.r.get(key)

    def z(self, key: str) -> float:
        """The quantity, or 0 when this export lacks it (for scores only, never for display)."""
        return self.r.get(key) or 0.0

    def line(self, key: str, text: str | None = None) -> str:
        quantity = BY_KEY[key]
        value = self.q(key)
        shown = text or (pct(value) if quantity.unit == "%" else f"{value:g}" if value is not None else "n/a")
        return f"{quantity.label}: {shown} [{self.r.source(key) or 'not in this export'}]"

    # -------------------------------------------------------------------------------- stalls

    def _stall_tables(self) -> dict[str, list[dict]]:
        tables = {}
        for family, reasons in stall_families(self.launch).items():
            tables[family] = _share_table(reasons)
        if not tables:
            from_rules = _stalls_from_rules(self.launch.rules, self.q("cycles_per_issue"))
            if from_rules:
                tables["rule_messages"] = from_rules
        return tables

    def share(self, *reasons: str) -> float:
        table = self.stalls.get(self.primary_family or "", [])
        return sum(row["share"] for row in table if row["reason"] in reasons)

    def top_stall(self) -> dict | None:
        table = self.stalls.get(self.primary_family or "", [])
        return table[0] if table else None

    def stall_metric(self, reason: str) -> str:
        if self.primary_family == "pc_sampling":
            return f"smsp__pcsamp_warps_issue_stalled_{reason}"
        if self.primary_family == "pm_sampling":
            return f"pmsampling:smsp__warps_issue_stalled_{reason}.avg"
        return f"smsp__average_warps_issue_stalled_{reason}_per_issue_active.ratio"


def _share_table(reasons: dict[str, float]) -> list[dict]:
    stalled = {reason: value for reason, value in reasons.items() if reason not in NOT_STALLS and value > 0}
    total = sum(stalled.values())
    rows = [{"reason": reason, "value": value, "share": value / total if total else 0.0}
            for reason, value in stalled.items()]
    return sorted(rows, key=lambda row: row["value"], reverse=True)


def _stalls_from_rules(rules: list[RuleFinding], cycles_per_issue: float | None) -> list[dict]:
    """Stall shares recovered from the warp-state rule messages of a details-only export.

    Older ncu versions state the share ("represents about 64.6% of the total"); newer ones give only the
    cycles ("spends 70.4 cycles being stalled ..."), which are a share of the warp cycles per issued instruction.
    """
    found: dict[str, dict] = {}
    for rule in rules:
        text = rule.message.lower()
        reason = next((name for phrase, name in _MESSAGE_REASONS if phrase in text), None)
        cycles = _MESSAGE_CYCLES.search(rule.message)
        if reason is None or reason in found or cycles is None:
            continue
        stalled = parse_number(cycles.group(1))
        stated = _MESSAGE_SHARE.search(rule.message)
        if stated:
            share = parse_number(stated.group(1)) / 100.0
        elif cycles_per_issue:
            share = min(1.0, stalled / cycles_per_issue)
        else:
            continue
        found[reason] = {"reason": reason, "value": stalled, "share": share}
    return sorted(found.values(), key=lambda row: row["share"], reverse=True)


_HIGHEST_PIPE = re.compile(r"(\w[\w ]*?) is the highest-utilized pipeline \(([\d.,]+)%\)")


def pipe_from_rules(rules: list[RuleFinding]) -> tuple[str, float] | None:
    """The busiest compute pipe as the HighPipeUtilization rule names it: (pipe, %), ("none", 0) if all are idle."""
    for rule in rules:
        match = _HIGHEST_PIPE.search(rule.message)
        if match:
            return match.group(1).strip(), parse_number(match.group(2))
        if "all compute pipelines are under-utilized" in rule.message.lower():
            return "none", 0.0
    return None


# ----------------------------------------------------------------------------------------------- sections

def identity(ev: Evidence) -> dict:
    launch = ev.launch
    return {
        "kernel": launch.name, "launch_id": launch.launch_id, "grid": launch.grid, "block": launch.block,
        "device": launch.device, "compute_capability": launch.compute_capability,
        "grid_blocks": ev.q("grid_blocks"), "block_threads": ev.q("block_threads"), "registers": ev.q("registers"),
        "shared_bytes_per_block": ev.q("shared_per_block"), "sm_count": ev.q("sm_count"), "waves": ev.q("waves"),
    }


def speed_of_light(ev: Evidence) -> dict:
    keys = ("duration_ns", "sm_pct", "memory_pct", "dram_pct", "dram_bytes", "dram_read_bytes", "dram_write_bytes",
            "l1_pct", "l2_pct", "l1_hit_pct", "l2_hit_pct", "tensor_pct", "fma_pct", "issue_active_pct")
    return {key: ev.q(key) for key in keys}


def roofline(ev: Evidence) -> dict:
    memory_roof = ev.q("dram_pct")
    if memory_roof is None:
        memory_roof = ev.q("memory_pct")
    pipes = [value for value in (ev.q("sm_pct"), ev.q("tensor_pct"), ev.q("fma_pct")) if value is not None]
    compute_roof = max(pipes) if pipes else None
    flops = None
    if ev.q("ffma_thread_inst") is not None:
        flops = 2 * ev.z("ffma_thread_inst") + ev.z("fadd_thread_inst") + ev.z("fmul_thread_inst")
    dram_bytes = ev.q("dram_bytes")
    intensity = flops / dram_bytes if flops is not None and dram_bytes else None
    near = max(memory_roof or 0.0, compute_roof or 0.0)
    if near < 60:
        position = "under both roofs: neither memory nor compute is near its peak (latency, launch or stalls)"
    elif (memory_roof or 0) >= (compute_roof or 0):
        position = f"at the memory roof ({pct(memory_roof)} of DRAM peak)"
    else:
        position = f"at the compute roof ({pct(compute_roof)} of the busiest compute unit)"
    return {"memory_roof_pct": memory_roof, "compute_roof_pct": compute_roof, "fp32_flops": flops,
            "fp32_flop_per_dram_byte": intensity, "position": position}


def occupancy(ev: Evidence) -> dict:
    limits = {name: ev.q(f"limit_{name}") for name in ("registers", "shared_mem", "warps", "blocks", "barriers")}
    known = {name: value for name, value in limits.items() if value is not None}
    blocks_per_sm = min(known.values()) if known else None
    limiters = sorted(name for name, value in known.items() if value == blocks_per_sm)
    return {"theoretical_pct": ev.q("theoretical_occupancy_pct"), "achieved_pct": ev.q("achieved_occupancy_pct"),
            "blocks_per_sm": blocks_per_sm, "limiters": limiters, "limits": limits}


def spills(ev: Evidence) -> dict:
    local, global_ = ev.q("local_sectors"), ev.q("global_sectors")
    share = local / (local + global_) if local is not None and global_ is not None and local + global_ else None
    requests, issued = ev.q("spill_requests"), ev.q("issued_instructions")
    return {"local_sectors": local, "local_bytes": local * 32 if local is not None else None,
            "local_requests": ev.q("local_requests"), "share_of_memory_traffic": share,
            "spill_requests": requests,
            # The details page has no sector counts; spill requests per issued instruction stand in there.
            "spill_requests_per_instruction": requests / issued if requests is not None and issued else None}


def launch_shape(ev: Evidence) -> dict:
    blocks, sms, waves = ev.q("grid_blocks"), ev.q("sm_count"), ev.q("waves")
    underfilled = blocks is not None and sms is not None and blocks < sms
    tail_idle = None
    if waves is not None and waves > 1 and waves % 1 > 1e-6:
        # Blocks of equal length: the last, partial wave keeps (1 - fraction) of the GPU idle for one wave time.
        tail_idle = (math.ceil(waves) - waves) / math.ceil(waves)
    return {"underfilled": underfilled, "busy_sm_fraction": min(1.0, blocks / sms) if blocks and sms else None,
            "waves": waves, "full_waves": math.floor(waves) if waves is not None else None,
            "last_wave_fill": waves % 1 if waves is not None and waves % 1 > 1e-6 else None,
            "tail_idle_fraction": tail_idle}


def atomics(ev: Evidence) -> dict:
    """How much of the SMs' L2 traffic is atomics, and how unevenly the L2 slices carry the load."""
    atomic, total = ev.q("l2_atomic_sectors"), ev.q("l2_sm_sectors")
    busiest, average = ev.q("l2_sectors_slice_max"), ev.q("l2_sectors_slice_avg")
    return {"l2_atomic_sectors": atomic,
            "share_of_l2_traffic": min(1.0, atomic / total) if atomic is not None and total else None,
            "hottest_slice_vs_average": busiest / average if busiest is not None and average else None}


def bank_conflicts(ev: Evidence) -> dict:
    conflicts, wavefronts = ev.q("shared_bank_conflicts"), ev.q("shared_wavefronts")
    return {"conflicts": conflicts, "wavefronts": wavefronts,
            "share_of_wavefronts": conflicts / wavefronts if conflicts is not None and wavefronts else None}


def rule_findings(launch: KernelLaunch) -> list[dict]:
    """ncu's own findings, largest estimated speedup first. Estimates overlap: they are leads, never a sum."""
    rows = [{"rule": rule.rule, "section": rule.section, "type": rule.kind, "estimated_speedup_pct": rule.speedup_pct,
             "speedup_scope": rule.speedup_kind, "message": rule.message}
            for rule in launch.rules if rule.message and rule.kind not in ("INF", "OK")]
    return sorted(rows, key=lambda row: row["estimated_speedup_pct"] or 0.0, reverse=True)
