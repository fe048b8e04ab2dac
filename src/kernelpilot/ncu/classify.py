"""One bottleneck class per launch, with a confidence and the evidence lines behind it, and one next edit.

Every class scores the launch in [0, 1]; a class that does not apply scores 0. Scores compare the kernel with
itself where possible: the memory unit nearest its peak against the others, one stall reason's share of all
stall cycles, the grid against the SMs it could fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kernelpilot.ncu.diagnose import (FRONT_END_STALLS, LATENCY_STALLS, REGISTER_ALLOCATION_UNIT, REGISTERS_PER_SM,
                                      SYNC_STALLS, Evidence, atomics, human_bytes, human_time, launch_shape, occupancy,
                                      pct, pipe_from_rules, spills)


@dataclass
class Verdict:
    klass: str
    score: float
    evidence: list[str] = field(default_factory=list)
    detail: str = ""  # e.g. which compute pipe


def _throughput_peak(ev: Evidence) -> float:
    return max(ev.z("sm_pct"), ev.z("memory_pct"), ev.z("dram_pct"), ev.z("l2_pct"), ev.z("l1_pct"))


def _stall_line(ev: Evidence, reasons: tuple[str, ...]) -> str:
    rows = [row for row in ev.stalls.get(ev.primary_family or "", []) if row["reason"] in reasons]
    parts = ", ".join(f"{row['reason']} {row['share']:.0%}" for row in rows) or "none"
    return f"stall share ({ev.primary_family or 'no stall metrics'}): {parts} of stall cycles"


def score_launch_bound(ev: Evidence) -> Verdict:
    blocks, sms = ev.q("grid_blocks"), ev.q("sm_count")
    if blocks is not None and sms and blocks < sms:
        return Verdict("launch-bound", 0.6 + 0.4 * (1 - blocks / sms), [
            f"grid of {blocks:g} blocks for {sms:g} SMs: {sms - blocks:g} SMs get no work [{ev.r.source('grid_blocks')}]",
            ev.line("sm_pct"), ev.line("memory_pct")], "under-filled grid")
    duration = ev.q("duration_ns")
    if duration is not None and duration < 5000 and _throughput_peak(ev) < 20:
        return Verdict("launch-bound", 0.55, [ev.line("duration_ns", human_time(duration)), ev.line("sm_pct"),
                                              ev.line("memory_pct")], "launch overhead")
    return Verdict("launch-bound", 0.0)


def score_tail(ev: Evidence) -> Verdict:
    shape = launch_shape(ev)
    idle = shape["tail_idle_fraction"]
    if idle is None or shape["waves"] > 4 or idle < 0.15:
        return Verdict("tail-bound", 0.0)
    # The idle share assumes blocks take as long alone as in company. Throughput-bound blocks do not: they speed
    # up once the last wave leaves them the SM, and the busiest unit stays near its peak over the whole launch.
    peak = _throughput_peak(ev)
    headroom = 1 - max(0.0, peak - 50) / 50
    return Verdict("tail-bound", min(1.0, 2 * idle) * headroom, [
        ev.line("waves", f"{shape['waves']:.2f} ({shape['full_waves']} full, last wave {shape['last_wave_fill']:.0%} full)"),
        f"idle share of SM time in the partial wave: up to {idle:.0%} (equal-length blocks)",
        f"busiest unit at {peak:.1f}% of peak over the launch", ev.line("achieved_occupancy_pct")])


def score_spill(ev: Evidence) -> Verdict:
    spill = spills(ev)
    share = spill["share_of_memory_traffic"]
    if share is not None:
        evidence = (f"local-memory (spill) traffic: {share:.0%} of L1 sectors, {human_bytes(spill['local_bytes'])} "
                    f"[{ev.r.source('local_sectors')}]")
    else:
        share = spill["spill_requests_per_instruction"]
        evidence = (f"spill requests: {share or 0:.0%} of issued instructions "
                    f"[{ev.r.source('spill_requests')} / {ev.r.source('issued_instructions')}]")
    if share is None or share < 0.05:
        return Verdict("register-spill-bound", 0.0)
    return Verdict("register-spill-bound", min(1.0, 0.5 + share), [evidence, ev.line("registers")])


def score_compute(ev: Evidence) -> Verdict:
    pipes = {"tensor_pct": ev.z("tensor_pct"), "fma_pct": ev.z("fma_pct"), "alu_pct": ev.z("alu_pct")}
    key = max(pipes, key=pipes.get)
    busiest, detail = pipes[key], key.replace("_pct", " pipe")
    first = ev.line(key)
    if busiest == 0 and not ev.r.source(key):  # no pipe counters (details page only): ncu's pipe rule, then SM%
        named = pipe_from_rules(ev.launch.rules)
        if named is not None:
            pipe, busiest = named
            detail = f"{pipe.lower()} pipe"
            first = f"busiest pipe per ncu's HighPipeUtilization rule: {pipe} at {busiest:.1f}%"
        else:
            busiest, detail = ev.z("sm_pct"), "SM (no pipe counters in this export)"
            first = ev.line("sm_pct")
    memory = max(ev.z("dram_pct"), ev.z("l2_pct"), ev.z("memory_pct"))
    if busiest < 50 or busiest < memory - 5:
        return Verdict("compute-bound", 0.0)
    return Verdict("compute-bound", busiest / 100, [first, ev.line("sm_pct"), ev.line("memory_pct")], detail)


def score_dram(ev: Evidence) -> Verdict:
    dram, l2 = ev.z("dram_pct"), ev.z("l2_pct")
    if dram < 50 or dram < l2 - 10:
        return Verdict("dram-bound", 0.0)
    return Verdict("dram-bound", dram / 100, [
        ev.line("dram_pct"), ev.line("dram_bytes", human_bytes(ev.q("dram_bytes"))), ev.line("l2_pct"),
        ev.line("sm_pct")])


def score_l2(ev: Evidence) -> Verdict:
    dram, l2 = ev.z("dram_pct"), ev.z("l2_pct")
    if l2 < 50 or l2 < dram + 15:
        return Verdict("l2-bound", 0.0)
    # L2 as the ceiling means L2 serving re-reads; traffic that mostly misses is DRAM's or latency's story.
    hit = min(1.0, max(0.0, ev.z("l2_hit_pct") / 100))
    return Verdict("l2-bound", l2 / 100 * (0.5 + 0.5 * hit),
                   [ev.line("l2_pct"), ev.line("l2_hit_pct"), ev.line("dram_pct")])


def score_latency(ev: Evidence) -> Verdict:
    peak = _throughput_peak(ev)
    latency = ev.share(*LATENCY_STALLS)
    theoretical = ev.q("theoretical_occupancy_pct")
    if latency < 0.3 or (theoretical is not None and theoretical < 50):
        return Verdict("memory-latency-bound", 0.0)
    # Warps waiting on contended atomics wait on serialization, not on memory latency.
    atomic_share = atomics(ev)["share_of_l2_traffic"] or 0.0
    return Verdict("memory-latency-bound", (0.5 * (1 - peak / 100) + 0.5 * latency) * (1 - atomic_share), [
        f"busiest unit at {peak:.1f}% of peak: throughput is not the limit", _stall_line(ev, LATENCY_STALLS),
        ev.line("theoretical_occupancy_pct"), ev.line("achieved_occupancy_pct")])


def score_occupancy(ev: Evidence) -> Verdict:
    peak = _throughput_peak(ev)
    theoretical = ev.q("theoretical_occupancy_pct")
    stalled = ev.share(*LATENCY_STALLS, *SYNC_STALLS)
    if theoretical is None or theoretical >= 50 or stalled < 0.3:
        return Verdict("occupancy-limited", 0.0)
    occ = occupancy(ev)
    # More warps only help while no unit is near its peak: fade the score out as the busiest unit passes 50%.
    headroom = 1 - max(0.0, peak - 50) / 50
    return Verdict("occupancy-limited", (0.5 * (1 - theoretical / 100) + 0.5 * stalled) * headroom, [
        ev.line("theoretical_occupancy_pct"), ev.line("achieved_occupancy_pct"),
        f"limited by {', '.join(occ['limiters']) or 'unknown'}: {occ['blocks_per_sm']} blocks/SM",
        _stall_line(ev, LATENCY_STALLS + SYNC_STALLS), f"busiest unit at {peak:.1f}% of peak"])


def _stall_class(ev: Evidence, klass: str, reasons: tuple[str, ...]) -> Verdict:
    """A class named by its stall reasons: it applies once they take a quarter of all stall cycles."""
    share = ev.share(*reasons)
    if share < 0.25:
        return Verdict(klass, 0.0)
    return Verdict(klass, min(1.0, 0.2 + share), [_stall_line(ev, reasons), ev.line("issue_active_pct")])


def score_sync(ev: Evidence) -> Verdict:
    barriers = _stall_class(ev, "synchronization-bound", SYNC_STALLS)
    barriers.detail = "barriers and fences" if barriers.score else ""
    contention = atomics(ev)
    share, hot = contention["share_of_l2_traffic"], contention["hottest_slice_vs_average"]
    if share is None or share < 0.5 or _throughput_peak(ev) >= 60:
        return barriers
    # Atomics to few addresses serialize in one L2 slice: the busiest slice against the average says how few.
    concentration = min(1.0, math.log10(hot) / 2) if hot and hot > 1 else 0.0
    atomic = Verdict("synchronization-bound", 0.5 * share + 0.5 * concentration, [
        f"atomics are {share:.0%} of the SMs' L2 sectors [{ev.r.source('l2_atomic_sectors')}]",
        f"the busiest L2 slice handles {hot:.0f}x the average slice [lts__t_sectors.max / lts__t_sectors.avg]"
        if hot else "L2 slice balance: n/a", f"busiest unit at {_throughput_peak(ev):.1f}% of peak"],
        "contended atomics")
    return max(barriers, atomic, key=lambda verdict: verdict.score)


def score_front_end(ev: Evidence) -> Verdict:
    return _stall_class(ev, "front-end-bound", FRONT_END_STALLS)


SCORERS = (score_launch_bound, score_tail, score_spill, score_compute, score_dram, score_l2, score_latency,
           score_occupancy, score_sync, score_front_end)


def classify(ev: Evidence) -> dict:
    verdicts = sorted((scorer(ev) for scorer in SCORERS), key=lambda verdict: verdict.score, reverse=True)
    best, runner_up = verdicts[0], verdicts[1]
    if best.score == 0:
        best = _fallback(ev)
    margin = best.score - runner_up.score
    missing = caveats(ev)
    # Each family of counters the export lacks is a class that could not compete: trust the winner less.
    confidence = round(best.score * (0.5 + 0.5 * min(1.0, margin / 0.3)) * 0.9 ** len(missing), 2)
    label = "high" if confidence >= 0.7 else "medium" if confidence >= 0.4 else "low"
    return {"class": best.klass, "detail": best.detail, "score": round(best.score, 3), "confidence": confidence,
            "confidence_label": label, "evidence": best.evidence, "caveats": missing,
            "runner_up": {"class": runner_up.klass, "score": round(runner_up.score, 3)} if runner_up.score else None,
            "next_edit": next_edit(ev, best)}


def caveats(ev: Evidence) -> list[str]:
    """What this export lacks, and so which classes the diagnosis could only judge indirectly."""
    notes = []
    if ev.primary_family is None:
        notes.append("no stall-reason metrics: synchronization, front-end and latency classes cannot be seen")
    elif ev.primary_family == "rule_messages":
        notes.append("stall shares come from ncu's rule messages (no stall metrics in this export)")
    if not ev.r.source("local_sectors"):
        notes.append("no local-memory sector counters: spills judged from spill requests, if any")
    if not (ev.r.source("tensor_pct") or ev.r.source("fma_pct")):
        notes.append("no pipe counters: compute judged from ncu's pipe rule or SM throughput")
    if not ev.r.source("l2_atomic_sectors"):
        notes.append("no L2 atomic counters: contended atomics cannot be seen")
    return notes


def _fallback(ev: Evidence) -> Verdict:
    """No class stands out: the unit nearest its peak decides, with a low score."""
    if ev.z("dram_pct") >= max(ev.z("sm_pct"), ev.z("l2_pct")):
        return Verdict("dram-bound", 0.2, [ev.line("dram_pct"), ev.line("sm_pct"), "no class scored: weakest evidence"])
    if ev.z("l2_pct") >= ev.z("sm_pct"):
        return Verdict("l2-bound", 0.2, [ev.line("l2_pct"), ev.line("sm_pct"), "no class scored: weakest evidence"])
    return Verdict("compute-bound", 0.2, [ev.line("sm_pct"), ev.line("dram_pct"), "no class scored: weakest evidence"],
                   "sm")


# ----------------------------------------------------------------------------------------------- the next edit

def _regs_for_blocks(blocks: int, warps_per_block: int) -> int:
    """The most registers per thread that still fit `blocks` blocks of `warps_per_block` warps on one SM."""
    per_warp = REGISTERS_PER_SM // (blocks * warps_per_block)
    per_warp -= per_warp % REGISTER_ALLOCATION_UNIT
    return max(0, (per_warp // 32) // 8 * 8)


def next_edit(ev: Evidence, verdict: Verdict) -> dict:
    return _EDITS[verdict.klass](ev, verdict)


def _edit(change: str, metric: str, prediction: str) -> dict:
    return {"change": change, "metric": metric, "predicted": prediction}


def _edit_compute(ev: Evidence, verdict: Verdict) -> dict:
    tensor, fma = ev.q("tensor_pct"), ev.q("fma_pct")
    if verdict.detail == "tensor pipe":
        top = ev.top_stall()
        if (tensor or 0) >= 90:
            return _edit(f"the tensor pipe is {pct(tensor)} busy: the math itself is the cost, so cut it: skip "
                         "masked/padded tiles or move to a lower-precision MMA (fp8 with scaling)",
                         "gpu__time_duration.sum", "duration falls in proportion to the MMA work removed, tensor pipe "
                         "stays near its current share")
        stall = f"; warps stall most on {top['reason']} ({top['share']:.0%})" if top else ""
        return _edit(f"the tensor pipe is {pct(tensor)} busy{stall}: add one pipeline stage (num_stages + 1) so the "
                     "next K-tile's operands are in shared memory before the MMA needs them",
                     "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active",
                     f"rises from {pct(tensor)} toward 90%, duration down by the same ratio")
    if verdict.detail.startswith("SM"):
        return _edit(f"SM throughput is {pct(ev.q('sm_pct'))} with memory at {pct(ev.q('memory_pct'))}: the kernel "
                     "is limited by instructions issued; cut instructions per element (hoist invariant math and "
                     "index arithmetic out of loops, vectorize loads) and re-profile with pipe counters",
                     "smsp__inst_executed.sum", "falls; duration falls with it")
    return _edit(f"the FMA pipe is {pct(fma)} busy while the tensor pipe is at {pct(tensor)}: the work runs on CUDA "
                 "cores; cut the FP32 instructions per element (reuse products, hoist invariant math out of the loop) "
                 "or recast the inner product as a tl.dot so it runs on the tensor pipe",
                 "sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",
                 f"falls from {pct(fma)}; duration falls with the FMA instructions removed")


def _edit_dram(ev: Evidence, verdict: Verdict) -> dict:
    moved, duration = ev.q("dram_bytes"), ev.q("duration_ns")
    saving = f" (at this rate each MB removed saves ~{duration / (moved / 1e6) / 1e3:.2f} us)" if moved and duration else ""
    return _edit(f"DRAM runs at {pct(ev.q('dram_pct'))} of peak moving {human_bytes(moved)} "
                 f"({human_bytes(ev.q('dram_read_bytes'))} read, {human_bytes(ev.q('dram_write_bytes'))} written) in "
                 f"{human_time(duration)}: the kernel is on the memory roof, so only fewer bytes help; fuse the "
                 f"producer or consumer op into this kernel, or store the output in a narrower dtype{saving}",
                 "dram__bytes.sum", f"falls below {human_bytes(moved)}; duration falls in proportion")


def _edit_l2(ev: Evidence, verdict: Verdict) -> dict:
    l2_bytes, dram_bytes = ev.q("l2_bytes"), ev.q("dram_bytes")
    reuse = f"{l2_bytes / dram_bytes:.1f}x" if l2_bytes and dram_bytes else "repeatedly"
    return _edit(f"L2 runs at {pct(ev.q('l2_pct'))} of peak with a {pct(ev.q('l2_hit_pct'))} hit rate while DRAM is "
                 f"at {pct(ev.q('dram_pct'))}: the same data is fetched from L2 {reuse}; stage the re-read tile in "
                 "shared memory (or registers) once per block, or let L1 keep it (drop the .cg / evict-first hints)",
                 "lts__t_bytes.sum", f"falls from {human_bytes(l2_bytes)}; lts__throughput and duration fall with it")


def _edit_latency(ev: Evidence, verdict: Verdict) -> dict:
    top = ev.top_stall()
    reason = top["reason"] if top else "long_scoreboard"
    share = f"{top['share']:.0%}" if top else "most"
    return _edit(f"SM at {pct(ev.q('sm_pct'))} and memory at {pct(ev.q('memory_pct'))} of peak while {share} of "
                 f"stall cycles are {reason} at {pct(ev.q('achieved_occupancy_pct'))} achieved occupancy: each warp "
                 "waits on one load at a time; put several independent loads in flight per thread (process 2-4 "
                 "independent items per thread, or prefetch the next iteration's operands before using this one's)",
                 ev.stall_metric(reason), f"{reason} share falls below {share}; memory throughput rises")


def _edit_occupancy(ev: Evidence, verdict: Verdict) -> dict:
    occ = occupancy(ev)
    blocks = int(occ["blocks_per_sm"] or 0)
    threads = int(ev.q("block_threads") or 0)
    warps = max(1, math.ceil(threads / 32))
    theoretical = ev.q("theoretical_occupancy_pct")
    target = f"{min(100.0, (theoretical or 0) * (blocks + 1) / blocks):.0f}%" if blocks else "higher"
    metric = "sm__maximum_warps_per_active_cycle_pct"
    if "registers" in occ["limiters"]:
        regs = int(ev.q("registers") or 0)
        cap = _regs_for_blocks(blocks + 1, warps)
        return _edit(f"theoretical occupancy is {pct(theoretical)}: {regs} registers/thread x {threads} threads "
                     f"admit only {blocks} blocks/SM; cut the values each thread keeps live (smaller per-thread tile) "
                     f"to at most {cap} registers/thread so {blocks + 1} blocks fit", metric,
                     f"rises from {pct(theoretical)} to ~{target}; latency stalls per issue fall")
    if "shared_mem" in occ["limiters"]:
        shared = ev.q("shared_per_block")
        return _edit(f"theoretical occupancy is {pct(theoretical)}: {human_bytes(shared)} of shared memory per "
                     f"block admits only {blocks} blocks/SM; shrink the staged tile or drop a pipeline stage so "
                     f"{blocks + 1} blocks fit", metric, f"rises from {pct(theoretical)} to ~{target}")
    return _edit(f"theoretical occupancy is {pct(theoretical)}: blocks of {threads} threads hit the "
                 f"{'/'.join(occ['limiters']) or 'block'} limit at {blocks} blocks/SM; use blocks of {threads * 2} "
                 "threads (num_warps x 2) with the same per-thread work", metric,
                 f"rises from {pct(theoretical)} to ~{target}")


def _edit_spill(ev: Evidence, verdict: Verdict) -> dict:
    spill = spills(ev)
    share = spill["share_of_memory_traffic"] or 0.0
    regs = int(ev.q("registers") or 0)
    threads = int(ev.q("block_threads") or 0)
    return _edit(f"{share:.0%} of L1 traffic is spilled registers ({human_bytes(spill['local_bytes'])} of local "
                 f"memory) at {regs} registers/thread: the tile each program holds does not fit the register file; "
                 f"halve the rows (or columns) per program, or spread the same tile over twice the threads "
                 f"(num_warps {max(1, threads // 32)} -> {max(2, threads // 16)})",
                 "l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum + _op_st.sum",
                 f"local-memory sectors fall from {spill['local_sectors'] or 0:.3g} to ~0; duration falls by up to "
                 f"the spilled share ({share:.0%})")


def _edit_launch(ev: Evidence, verdict: Verdict) -> dict:
    blocks, sms = ev.q("grid_blocks"), ev.q("sm_count")
    if verdict.detail == "under-filled grid" and blocks and sms:
        return _edit(f"{blocks:g} blocks for {sms:g} SMs leaves {sms - blocks:g} SMs idle: split each program's "
                     f"work so the grid has at least {int(sms) * 2} blocks (smaller chunk per program, or a split "
                     "reduction with a second pass)", "sm__throughput.avg.pct_of_peak_sustained_elapsed",
                     f"rises up to ~{sms / blocks:.0f}x from {pct(ev.q('sm_pct'))}; duration falls accordingly")
    return _edit(f"the kernel runs {human_time(ev.q('duration_ns'))}, too short to amortize its launch: fuse it into "
                 "the neighbouring kernel or capture the sequence in a CUDA graph", "gpu__time_duration.sum",
                 "end-to-end time falls by about one launch latency per fused launch")


def _edit_tail(ev: Evidence, verdict: Verdict) -> dict:
    shape = launch_shape(ev)
    occ = occupancy(ev)
    per_wave = int((occ["blocks_per_sm"] or 0) * (ev.q("sm_count") or 0))
    sizes = (f"{shape['full_waves'] * per_wave} or {(shape['full_waves'] + 1) * per_wave} blocks "
             f"({occ['blocks_per_sm']} blocks/SM x {ev.q('sm_count'):g} SMs per wave)" if per_wave else
             "a whole number of waves")
    return _edit(f"{shape['waves']:.2f} waves: the last wave is {shape['last_wave_fill']:.0%} full, leaving up to "
                 f"{shape['tail_idle_fraction']:.0%} of SM time idle; resize the per-program work so the grid is "
                 f"{sizes}, or launch one persistent program per slot that loops over the work",
                 "launch__waves_per_multiprocessor",
                 f"becomes a whole number; duration falls by up to {shape['tail_idle_fraction']:.0%}")


def _edit_sync(ev: Evidence, verdict: Verdict) -> dict:
    if verdict.detail == "contended atomics":
        contention = atomics(ev)
        threads = int(ev.q("block_threads") or 0)
        return _edit(f"atomics are {contention['share_of_l2_traffic']:.0%} of L2 traffic and the busiest L2 slice "
                     f"carries {contention['hottest_slice_vs_average'] or 0:.0f}x the average: every thread updates "
                     f"the same few addresses; reduce within the block first (tl.sum over the {threads} threads) and "
                     "issue one atomic per block and address", "lts__t_sectors_srcunit_tex_op_red.sum",
                     f"falls ~{threads}x from {contention['l2_atomic_sectors'] or 0:.3g}; duration falls with it")
    barrier, membar = ev.share("barrier"), ev.share("membar")
    reason = "barrier" if barrier >= membar else "membar"
    if reason == "barrier":
        change = (f"{barrier:.0%} of stall cycles wait at block barriers: do more work between barriers (hoist the "
                  "barrier out of the inner loop, or exchange data within a warp instead of through shared memory)")
    else:
        change = (f"{membar:.0%} of stall cycles wait on memory fences: drop the acquire/release ordering the "
                  "atomics do not need (relaxed semantics) and combine updates per block before one global atomic")
    return _edit(change, ev.stall_metric(reason), f"{reason} share falls from {max(barrier, membar):.0%}; issue slots "
                 f"busy rises from {pct(ev.q('issue_active_pct'))}")


def _edit_front_end(ev: Evidence, verdict: Verdict) -> dict:
    share = ev.share(*FRONT_END_STALLS)
    return _edit(f"{share:.0%} of stall cycles wait on instruction fetch or branches: the hot code is larger than the "
                 "instruction cache; unroll less (shorter static_range / fewer specialized copies of the body)",
                 ev.stall_metric("no_instruction"), f"no_instruction share falls from {share:.0%}")


_EDITS = {"compute-bound": _edit_compute, "dram-bound": _edit_dram, "l2-bound": _edit_l2,
          "memory-latency-bound": _edit_latency, "occupancy-limited": _edit_occupancy,
          "register-spill-bound": _edit_spill, "launch-bound": _edit_launch, "tail-bound": _edit_tail,
          "synchronization-bound": _edit_sync, "front-end-bound": _edit_front_end}
