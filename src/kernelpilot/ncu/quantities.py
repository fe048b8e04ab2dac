"""The quantities a diagnosis needs, each resolved through every name it goes by.

The same number hides under different names depending on the export and the chip: a raw metric name
(`gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed`), an older or newer synonym
(`dram__throughput.avg.pct_of_peak_sustained_elapsed`), a details-page label under a section display name
("GPU Speed Of Light Throughput" / "DRAM Throughput"), or nothing at all while its parts exist (DRAM bytes read
and written, the duration and the DRAM peak). A Quantity lists them in order of preference; `Resolver.get`
tries each and records where the value came from, so every evidence line can name its metric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from kernelpilot.ncu.report import KernelLaunch

SOL = "GPU Speed Of Light Throughput"
MWA = "Memory Workload Analysis"
LAUNCH = "Launch Statistics"
OCC = "Occupancy"
CWA = "Compute Workload Analysis"


@dataclass(frozen=True)
class Quantity:
    key: str
    label: str
    unit: str  # the base unit the value is expressed in ("%", "ns", "byte", "byte/s", "" for counts)
    raw: tuple[str, ...] = ()
    details: tuple[tuple[str | None, str], ...] = ()  # (section display name or None for any, metric label)
    derive: Callable[["Resolver"], tuple[float, str] | None] | None = None
    take_max: bool = False  # several pipes measure the same unit: report the busiest rather than the first


def _sum(*keys: str) -> Callable[["Resolver"], tuple[float, str] | None]:
    def derive(resolver: "Resolver"):
        parts = [resolver.get(key) for key in keys]
        if any(part is None for part in parts):
            return None
        return sum(parts), " + ".join(resolver.source(key) for key in keys)
    return derive


def _scaled(key: str, factor: float) -> Callable[["Resolver"], tuple[float, str] | None]:
    def derive(resolver: "Resolver"):
        value = resolver.get(key)
        return None if value is None else (value * factor, f"{factor:g} x {resolver.source(key)}")
    return derive


def _sum_present(*keys: str) -> Callable[["Resolver"], tuple[float, str] | None]:
    """The sum of whichever parts this export has (None when it has none of them)."""
    def derive(resolver: "Resolver"):
        present = [key for key in keys if resolver.get(key) is not None]
        if not present:
            return None
        return sum(resolver.get(key) for key in present), " + ".join(resolver.source(key) for key in present)
    return derive


def _first_derivation(*derivations):
    def derive(resolver: "Resolver"):
        for derivation in derivations:
            result = derivation(resolver)
            if result is not None:
                return result
        return None
    return derive


def _ratio(numerator: str, denominator: str, factor: float = 1.0):
    def derive(resolver: "Resolver"):
        top, bottom = resolver.get(numerator), resolver.get(denominator)
        if top is None or not bottom:
            return None
        return top / bottom * factor, f"{resolver.source(numerator)} / {resolver.source(denominator)}"
    return derive


def _dram_bytes_from_rate(resolver: "Resolver"):
    rate, duration = resolver.get("dram_bytes_per_s"), resolver.get("duration_ns")
    if rate is None or duration is None:
        return None
    return rate * duration * 1e-9, f"{resolver.source('dram_bytes_per_s')} x duration"


def _dram_pct_from_bytes(resolver: "Resolver"):
    """DRAM % of peak from its parts, for sets that omit the percentage but keep bytes and the peak."""
    moved, duration, peak = resolver.get("dram_bytes"), resolver.get("duration_ns"), resolver.get("dram_peak_bytes_per_s")
    if moved is None or not duration or not peak:
        return None
    return 100.0 * moved / (duration * 1e-9) / peak, f"{resolver.source('dram_bytes')} / duration / DRAM peak"


def _dram_peak(resolver: "Resolver"):
    per_cycle, clock = resolver.get("dram_peak_bytes_per_cycle"), resolver.get("dram_clock_hz")
    if per_cycle is None or clock is None:
        return None
    return per_cycle * clock, "dram__bytes.sum.peak_sustained x dram__cycles_elapsed.avg.per_second"


def _label(section: str | None, label: str) -> tuple[tuple[str | None, str], ...]:
    return ((section, label),)


QUANTITIES: tuple[Quantity, ...] = (
    # identity
    Quantity("block_threads", "threads per block", "", ("launch__block_size",), _label(LAUNCH, "Block Size")),
    Quantity("grid_blocks", "blocks in the grid", "", ("launch__grid_size",), _label(LAUNCH, "Grid Size")),
    Quantity("registers", "registers per thread", "register/thread", ("launch__registers_per_thread",),
             _label(LAUNCH, "Registers Per Thread")),
    Quantity("shared_static", "static shared memory per block", "byte/block", ("launch__shared_mem_per_block_static",),
             _label(LAUNCH, "Static Shared Memory Per Block")),
    Quantity("shared_dynamic", "dynamic shared memory per block", "byte/block",
             ("launch__shared_mem_per_block_dynamic",), _label(LAUNCH, "Dynamic Shared Memory Per Block")),
    Quantity("shared_per_block", "shared memory per block", "byte/block", (), (),
             _sum("shared_static", "shared_dynamic")),
    Quantity("sm_count", "SMs", "", ("launch__sm_count", "device__attribute_multiprocessor_count"),
             _label(LAUNCH, "# SMs")),
    Quantity("waves", "waves per SM", "", ("launch__waves_per_multiprocessor",), _label(LAUNCH, "Waves Per SM")),
    # speed of light
    Quantity("duration_ns", "duration", "ns", ("gpu__time_duration.sum", "gpu__time_duration.avg"),
             _label(SOL, "Duration"), _ratio("elapsed_cycles", "sm_clock_hz", 1e9)),
    Quantity("elapsed_cycles", "elapsed cycles", "cycle", ("gpc__cycles_elapsed.max", "sm__cycles_elapsed.max"),
             _label(SOL, "Elapsed Cycles")),
    Quantity("sm_clock_hz", "SM frequency", "hz", ("sm__cycles_elapsed.avg.per_second", "gpc__cycles_elapsed.avg.per_second"),
             _label(SOL, "SM Frequency")),
    Quantity("sm_pct", "compute (SM) throughput", "%", ("sm__throughput.avg.pct_of_peak_sustained_elapsed",),
             _label(SOL, "Compute (SM) Throughput")),
    Quantity("memory_pct", "memory throughput", "%",
             ("gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",), _label(SOL, "Memory Throughput")),
    Quantity("dram_pct", "DRAM throughput", "%",
             ("gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed", "dram__throughput.avg.pct_of_peak_sustained_elapsed"),
             _label(SOL, "DRAM Throughput"), _dram_pct_from_bytes),
    Quantity("dram_read_bytes", "DRAM bytes read", "byte", ("dram__bytes_read.sum",), (),
             _scaled("dram_read_sectors", 32.0)),
    Quantity("dram_write_bytes", "DRAM bytes written", "byte", ("dram__bytes_write.sum",), (),
             _scaled("dram_write_sectors", 32.0)),
    Quantity("dram_read_sectors", "DRAM sectors read", "sector", ("dram__sectors_read.sum",)),
    Quantity("dram_write_sectors", "DRAM sectors written", "sector", ("dram__sectors_write.sum",)),
    Quantity("dram_bytes", "DRAM bytes", "byte", ("dram__bytes.sum",), (),
             _first_derivation(_sum("dram_read_bytes", "dram_write_bytes"), _dram_bytes_from_rate)),
    Quantity("dram_bytes_per_s", "DRAM bandwidth", "byte/s", ("dram__bytes.sum.per_second",),
             _label(MWA, "Memory Throughput")),
    Quantity("dram_peak_bytes_per_cycle", "DRAM peak bytes per cycle", "byte/cycle", ("dram__bytes.sum.peak_sustained",)),
    Quantity("dram_clock_hz", "DRAM frequency", "hz", ("dram__cycles_elapsed.avg.per_second",),
             _label(SOL, "DRAM Frequency")),
    Quantity("dram_peak_bytes_per_s", "DRAM peak bandwidth", "byte/s", (), (), _dram_peak),
    Quantity("l1_pct", "L1/TEX throughput", "%", ("l1tex__throughput.avg.pct_of_peak_sustained_active",),
             _label(SOL, "L1/TEX Cache Throughput")),
    Quantity("l2_pct", "L2 throughput", "%", ("lts__throughput.avg.pct_of_peak_sustained_elapsed",),
             _label(SOL, "L2 Cache Throughput")),
    Quantity("l1_hit_pct", "L1/TEX hit rate", "%", ("l1tex__t_sector_hit_rate.pct",), _label(MWA, "L1/TEX Hit Rate")),
    Quantity("l2_hit_pct", "L2 hit rate", "%", ("lts__t_sector_hit_rate.pct",), _label(MWA, "L2 Hit Rate")),
    Quantity("l2_bytes", "L2 bytes", "byte", ("lts__t_bytes.sum",), (), _scaled("l2_sectors", 32.0)),
    Quantity("l2_sectors", "L2 sectors", "sector", ("lts__t_sectors.sum",)),
    Quantity("l2_sectors_slice_max", "L2 sectors in the busiest slice", "sector", ("lts__t_sectors.max",)),
    Quantity("l2_sectors_slice_avg", "L2 sectors per slice, average", "sector", ("lts__t_sectors.avg",)),
    Quantity("l2_sm_sectors", "L2 sectors requested by the SMs", "sector", ("lts__t_sectors_srcunit_tex.sum",)),
    Quantity("l2_red_sectors", "L2 sectors of atomic reductions", "sector", ("lts__t_sectors_srcunit_tex_op_red.sum",)),
    Quantity("l2_atom_sectors", "L2 sectors of atomics", "sector", ("lts__t_sectors_srcunit_tex_op_atom.sum",)),
    Quantity("l2_atomic_sectors", "L2 sectors of atomics and reductions", "sector", (), (),
             _sum_present("l2_red_sectors", "l2_atom_sectors")),
    Quantity("tensor_pct", "tensor pipe utilization", "%",
             ("sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active",
              "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
              "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",
              "sm__inst_executed_pipe_tensor_op_hmma.avg.pct_of_peak_sustained_active",
              "sm__inst_executed_pipe_tensor_op_gmma.avg.pct_of_peak_sustained_active",
              "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_elapsed"), take_max=True),
    Quantity("fma_pct", "FMA pipe utilization", "%",
             ("sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",
              "sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active",
              "sm__pipe_fmaheavy_cycles_active.avg.pct_of_peak_sustained_active"), take_max=True),
    Quantity("alu_pct", "ALU pipe utilization", "%",
             ("sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active",
              "sm__inst_executed_pipe_alu.avg.pct_of_peak_sustained_active"), take_max=True),
    Quantity("issue_active_pct", "issue slots busy", "%",
             ("sm__inst_issued.avg.pct_of_peak_sustained_active", "smsp__issue_active.avg.pct_of_peak_sustained_active"),
             _label(CWA, "Issue Slots Busy")),
    Quantity("ffma_thread_inst", "FP32 FMA thread instructions", "inst",
             ("smsp__sass_thread_inst_executed_op_ffma_pred_on.sum",)),
    Quantity("fadd_thread_inst", "FP32 add thread instructions", "inst",
             ("smsp__sass_thread_inst_executed_op_fadd_pred_on.sum",)),
    Quantity("fmul_thread_inst", "FP32 multiply thread instructions", "inst",
             ("smsp__sass_thread_inst_executed_op_fmul_pred_on.sum",)),
    # occupancy
    Quantity("theoretical_occupancy_pct", "theoretical occupancy", "%", ("sm__maximum_warps_per_active_cycle_pct",),
             _label(OCC, "Theoretical Occupancy")),
    Quantity("achieved_occupancy_pct", "achieved occupancy", "%", ("sm__warps_active.avg.pct_of_peak_sustained_active",),
             _label(OCC, "Achieved Occupancy")),
    Quantity("limit_registers", "blocks/SM allowed by registers", "block", ("launch__occupancy_limit_registers",),
             _label(OCC, "Block Limit Registers")),
    Quantity("limit_shared_mem", "blocks/SM allowed by shared memory", "block", ("launch__occupancy_limit_shared_mem",),
             _label(OCC, "Block Limit Shared Mem")),
    Quantity("limit_warps", "blocks/SM allowed by warps (block size)", "block", ("launch__occupancy_limit_warps",),
             _label(OCC, "Block Limit Warps")),
    Quantity("limit_blocks", "blocks/SM allowed by the SM block slots", "block", ("launch__occupancy_limit_blocks",),
             _label(OCC, "Block Limit SM")),
    Quantity("limit_barriers", "blocks/SM allowed by barriers", "block", ("launch__occupancy_limit_barriers",),
             _label(OCC, "Block Limit Barriers")),
    # local memory (spills), global traffic, shared-memory bank conflicts
    Quantity("local_ld_sectors", "local-memory load sectors", "sector",
             ("l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum",), (), _scaled("local_ld_bytes", 1 / 32)),
    Quantity("local_st_sectors", "local-memory store sectors", "sector",
             ("l1tex__t_sectors_pipe_lsu_mem_local_op_st.sum",), (), _scaled("local_st_bytes", 1 / 32)),
    Quantity("local_ld_bytes", "local-memory load bytes", "byte", ("l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum",)),
    Quantity("local_st_bytes", "local-memory store bytes", "byte", ("l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum",)),
    Quantity("local_requests", "local-memory requests", "request", (), (),
             _sum("local_ld_requests", "local_st_requests")),
    Quantity("local_ld_requests", "local-memory load requests", "request",
             ("l1tex__t_requests_pipe_lsu_mem_local_op_ld.sum",)),
    Quantity("local_st_requests", "local-memory store requests", "request",
             ("l1tex__t_requests_pipe_lsu_mem_local_op_st.sum",)),
    Quantity("local_sectors", "local-memory sectors", "sector", (), (), _sum("local_ld_sectors", "local_st_sectors")),
    Quantity("spill_requests", "local-memory spilling requests", "request", ("derived__local_spilling_requests",),
             _label(MWA, "Local Memory Spilling Requests")),
    Quantity("issued_instructions", "issued warp instructions", "inst", ("smsp__inst_issued.sum",),
             _label("Instruction Statistics", "Issued Instructions")),
    Quantity("cycles_per_issue", "warp cycles per issued instruction", "cycle",
             ("smsp__average_warp_latency_per_inst_issued.ratio",),
             _label("Warp State Statistics", "Warp Cycles Per Issued Instruction")),
    Quantity("global_ld_sectors", "global load sectors", "sector", ("l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum",)),
    Quantity("global_st_sectors", "global store sectors", "sector", ("l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum",)),
    Quantity("global_sectors", "global sectors", "sector", (), (), _sum("global_ld_sectors", "global_st_sectors")),
    Quantity("shared_bank_conflicts", "shared-memory bank conflicts", "",
             ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum",), (),
             _sum("shared_ld_bank_conflicts", "shared_st_bank_conflicts")),
    Quantity("shared_ld_bank_conflicts", "shared-load bank conflicts", "",
             ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum",)),
    Quantity("shared_st_bank_conflicts", "shared-store bank conflicts", "",
             ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",)),
    Quantity("shared_wavefronts", "shared-memory wavefronts", "",
             ("l1tex__data_pipe_lsu_wavefronts_mem_shared.sum",), (),
             _sum("shared_ld_wavefronts", "shared_st_wavefronts")),
    Quantity("shared_ld_wavefronts", "shared-load wavefronts", "",
             ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum",)),
    Quantity("shared_st_wavefronts", "shared-store wavefronts", "",
             ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum",)),
)

BY_KEY = {quantity.key: quantity for quantity in QUANTITIES}


class Resolver:
    """Looks quantities up in one launch, memoized, remembering which name supplied each value."""

    def __init__(self, launch: KernelLaunch):
        self.launch = launch
        self._values: dict[str, float | None] = {}
        self._sources: dict[str, str] = {}
        self._active: set[str] = set()

    def get(self, key: str) -> float | None:
        if key not in self._values:
            if key in self._active:  # two derivations that lean on each other: give up, do not recurse
                return None
            self._active.add(key)
            try:
                value, source = self._resolve(BY_KEY[key])
            finally:
                self._active.discard(key)
            self._values[key] = value
            if source:
                self._sources[key] = source
        return self._values[key]

    def source(self, key: str) -> str:
        self.get(key)
        return self._sources.get(key, "")

    def _resolve(self, quantity: Quantity) -> tuple[float | None, str]:
        found = []
        for name in quantity.raw:
            measurement = self.launch.metrics.get(name)
            if measurement is not None and isinstance(measurement.value, (int, float)):
                found.append((float(measurement.value), name))
                if not quantity.take_max:
                    break
        if found:
            return max(found)
        for section, label in quantity.details:
            hit = self._detail(section, label, quantity.unit)
            if hit is not None:
                return hit
        if quantity.derive is not None:
            derived = quantity.derive(self)
            if derived is not None:
                return derived[0], f"derived: {derived[1]}"
        return None, ""

    def _detail(self, section: str | None, label: str, unit: str) -> tuple[float, str] | None:
        for (row_section, row_label), measurement in self.launch.details.items():
            if row_label != label or (section is not None and row_section != section):
                continue
            if not isinstance(measurement.value, (int, float)):
                continue
            if unit == "%" and measurement.unit not in ("%", ""):
                continue
            return float(measurement.value), f"{row_section} / {row_label}"
        return None


# ----------------------------------------------------------------------------------------------- stall families

# Nsight Compute exposes stall reasons three ways; each family is kept apart because their scales differ.
# Within a family the patterns are alternatives in order of preference (names changed across versions).
STALL_FAMILIES: tuple[tuple[str, str, tuple[re.Pattern, ...]], ...] = (
    ("warp_state", "warp cycles per issued instruction (WarpStateStats)",
     (re.compile(r"^smsp__average_warps_issue_stalled_(?P<reason>[a-z0-9_]+)_per_issue_active\.ratio$"),
      re.compile(r"^smsp__average_warp_latency_issue_stalled_(?P<reason>[a-z0-9_]+)\.ratio$"))),
    ("pc_sampling", "PC sampling, warp samples (SourceCounters)",
     (re.compile(r"^smsp__pcsamp_warps_issue_stalled_(?P<reason>[a-z0-9_]+)$"),)),
    ("pm_sampling", "warps in each stall state over time (PmSampling_WarpStates)",
     (re.compile(r"^pmsampling:smsp__warps_issue_stalled_(?P<reason>[a-z0-9_]+)\.avg$"),
      re.compile(r"^smsp__warp_issue_stalled_(?P<reason>[a-z0-9_]+)_per_warp_active\.pct$"))),
)
FAMILY_TITLES = {family: title for family, title, _ in STALL_FAMILIES} | {
    "rule_messages": "stall cycles named in ncu's warp-state rule messages (details page)"}
# A warp that issued, or could have: not a stall.
NOT_STALLS = {"selected", "not_selected"}


def _reason(raw: str) -> str:
    return {"no_instructions": "no_instruction"}.get(raw, raw)


def stall_families(launch: KernelLaunch) -> dict[str, dict[str, float]]:
    """family -> {reason: value} for every family present in the launch's metrics."""
    numbers = {name: float(m.value) for name, m in launch.metrics.items()
               if isinstance(m.value, (int, float)) and not name.endswith("_not_issued")}
    families: dict[str, dict[str, float]] = {}
    for family, _title, patterns in STALL_FAMILIES:
        for pattern in patterns:
            reasons = {_reason(match["reason"]): value for name, value in numbers.items()
                       if (match := pattern.match(name))}
            if reasons:
                families[family] = reasons
                break
    return families
