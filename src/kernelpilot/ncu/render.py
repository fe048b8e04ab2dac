"""The digest as Markdown: what an agent reads before it makes its next edit."""

from __future__ import annotations

from kernelpilot.ncu.diagnose import human_bytes, human_time, pct
from kernelpilot.ncu.quantities import FAMILY_TITLES


def _num(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}g}"
    return f"{value:,.0f}"


def _shown(value, unit: str) -> str:
    if unit == "%":
        return pct(value)
    if unit == "ns":
        return human_time(value)
    if unit == "byte":
        return human_bytes(value)
    return _num(value)


def _kernel_md(item: dict) -> list[str]:
    ident, sol, roof = item["identity"], item["speed_of_light"], item["roofline"]
    occ, spill, shape, banks = item["occupancy"], item["spills"], item["launch_shape"], item["bank_conflicts"]
    verdict = item["bottleneck"]
    edit = verdict["next_edit"]
    detail = f" ({verdict['detail']})" if verdict["detail"] else ""
    out = [f"## {ident['kernel']} (launch {ident['launch_id']})", "",
           f"**Bottleneck: {verdict['class']}{detail}**, confidence {verdict['confidence']:.2f} "
           f"({verdict['confidence_label']})", ""]
    out += [f"- {line}" for line in verdict["evidence"]]
    out += [f"- caveat: {note}" for note in verdict["caveats"]]
    if verdict["runner_up"]:
        out.append(f"- runner-up: {verdict['runner_up']['class']} (score {verdict['runner_up']['score']:.2f} vs "
                   f"{verdict['score']:.2f})")
    out += ["", "**Next edit (one):** " + edit["change"] + ".",
            f"Predicted: `{edit['metric']}` {edit['predicted']}.", "",
            "### Identity",
            f"grid {ident['grid'] or _num(ident['grid_blocks'])} x block {ident['block'] or _num(ident['block_threads'])}"
            f" | {_num(ident['registers'])} registers/thread | {human_bytes(ident['shared_bytes_per_block'])} shared/block"
            f" | {_num(ident['waves'])} waves on {_num(ident['sm_count'])} SMs", "",
            "### Speed of light",
            f"duration {human_time(sol['duration_ns'])} | SM {pct(sol['sm_pct'])} | memory {pct(sol['memory_pct'])} | "
            f"DRAM {pct(sol['dram_pct'])} ({human_bytes(sol['dram_bytes'])}) | L1 {pct(sol['l1_pct'])} "
            f"hit {pct(sol['l1_hit_pct'])} | L2 {pct(sol['l2_pct'])} hit {pct(sol['l2_hit_pct'])} | "
            f"tensor pipe {pct(sol['tensor_pct'])} | FMA pipe {pct(sol['fma_pct'])}",
            f"Roofline: {roof['position']}; memory roof {pct(roof['memory_roof_pct'])}, compute roof "
            f"{pct(roof['compute_roof_pct'])}"
            + (f", {roof['fp32_flop_per_dram_byte']:.2f} FP32 FLOP/DRAM byte" if roof["fp32_flop_per_dram_byte"] else ""),
            "", "### Occupancy",
            f"theoretical {pct(occ['theoretical_pct'])}, achieved {pct(occ['achieved_pct'])}; "
            f"{_num(occ['blocks_per_sm'])} blocks/SM, limited by {', '.join(occ['limiters']) or 'n/a'}", "",
            "### Spills, grid, bank conflicts",
            f"local memory: {human_bytes(spill['local_bytes'])} in {_num(spill['local_requests'])} requests"
            + (f" ({spill['share_of_memory_traffic']:.1%} of L1 sectors)" if spill["share_of_memory_traffic"] is not None
               else "")
            + f"; grid {'UNDER-FILLED' if shape['underfilled'] else 'fills the SMs'}"
            + (f", tail: last wave {shape['last_wave_fill']:.0%} full, up to {shape['tail_idle_fraction']:.0%} idle"
               if shape["tail_idle_fraction"] is not None else "")
            + f"; shared-memory bank conflicts {_num(banks['conflicts'])}"
            + (f" ({banks['share_of_wavefronts']:.1%} of wavefronts)" if banks["share_of_wavefronts"] else ""), ""]
    stalls = item["stalls"]["families"]
    if stalls:
        out.append("### Top stall reasons (share of stall cycles, per metric family)")
        for family, rows in stalls.items():
            marker = " (used for the class)" if family == item["stalls"]["primary_family"] else ""
            out.append(f"- {FAMILY_TITLES.get(family, family)}{marker}: "
                       + ", ".join(f"{row['reason']} {row['share']:.0%}" for row in rows[:3]))
        out.append("")
    findings = item["rule_findings"]
    if findings:
        out.append("### Nsight Compute rule findings (leads: estimates overlap and are never added up)")
        for row in findings[:8]:
            speedup = (f"est. {row['estimated_speedup_pct']:.1f}% {row['speedup_scope']}".rstrip()
                       if row["estimated_speedup_pct"] is not None else "no estimate")
            message = row["message"] if len(row["message"]) <= 480 else row["message"][:477] + "..."
            out.append(f"- [{row['type']}] {row['rule']} ({speedup}): {message}")
        out.append("")
    if "comparison" in item:
        out += _comparison_md(item["comparison"])
    return out


def _comparison_md(comparison: dict) -> list[str]:
    shift = comparison["class_shift"]
    out = [f"### Against the baseline ({comparison['baseline_kernel']})",
           f"class: {shift['from']} -> {shift['to']}" + (" (SHIFTED)" if shift["shifted"] else " (unchanged)"), "",
           "| metric | baseline | current | delta |", "|---|---|---|---|"]
    for row in comparison["deltas"]:
        relative = f" ({row['relative']:+.1%})" if row["relative"] is not None else ""
        verdict = "" if row["better"] is None else " better" if row["better"] else " worse"
        delta = (f"{row['delta']:+.1f} pts" if row["unit"] == "%" else
                 f"{'+' if row['delta'] >= 0 else '-'}{_shown(abs(row['delta']), row['unit'])}")
        out.append(f"| {row['label']} | {_shown(row['baseline'], row['unit'])} | {_shown(row['current'], row['unit'])}"
                   f" | {delta}{relative}{verdict} |")
    return out + [""]


def to_markdown(result: dict) -> str:
    lines = [f"# ncu digest: {result['report']}", ""]
    if result["baseline"]:
        lines += [f"Baseline: {result['baseline']}", ""]
    for item in result["kernels"]:
        lines += _kernel_md(item)
    return "\n".join(lines).rstrip() + "\n"
