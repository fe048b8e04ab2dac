"""The same-size copy: each case's physical limit, measured in the calibration, carried as a ceiling row and
named in the report for the missed cases whose target a plain copy of their bytes cannot meet."""

from pathlib import Path

import pytest

from kernelpilot.harness import report, runner
from kernelpilot.harness.isolation import WorkerResult
from kernelpilot.harness.spec import load_task

NORM = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"
ENV = {"gpu": "NVIDIA H200", "sm_count": 132, "driver": "580", "cuda": "13.0", "torch": "2.11", "triton": "3.6",
       "sm_clock_mhz": 1980, "mem_clock_mhz": 3201}
MEGABYTE = 1 << 20


def _timed(p50_us: float) -> dict:
    return {"correct": True, "device": {"p50": p50_us, "p10": p50_us, "p90": p50_us}, "host": {"p50": 5.0},
            "dobench_us": p50_us, "bytes": 8 * MEGABYTE}


def test_the_same_size_copy_is_a_measured_ceiling_row():
    task = load_task(NORM)
    case = task.cases[0]
    results = {"sglang_0_5_12": WorkerResult(cases={case.id: _timed(4.5)}),
               "triton_rows": WorkerResult(cases={case.id: _timed(3.4)})}
    calibration = {"copy_gbps": 4000.0, "empty_us": 0.75, "env": ENV,
                   "same_size_copy": {case.id: {"p10": 3.1, "p50": 3.2, "p90": 3.3}}}
    rows = {r["impl"]: r for r in runner._case_rows(task, case.id, case.op, results, calibration, "run", None)}
    copy = rows["copy_same_size"]
    assert (copy["impl_kind"], copy["device_us_p10"], copy["device_us_p50"]) == ("ceiling", 3.1, 3.2)
    assert copy["gbps"] == pytest.approx(8 * MEGABYTE / 3.2e3)
    assert copy["copy_fraction"] == pytest.approx(copy["gbps"] / 4000.0)
    assert rows["copy_ceiling"]["device_us_p50"] == pytest.approx(8 * MEGABYTE / 4e6)  # computed, not timed
    del calibration["same_size_copy"]  # a calibration from before the probe existed: no row, no error
    assert "copy_same_size" not in {r["impl"] for r in
                                    runner._case_rows(task, case.id, case.op, results, calibration, "run", None)}


def _case(name: str, target_us: float, met: bool) -> dict:
    return {"case": name, "winner": "triton_rows", "target_us": target_us, "meets_target": met, "impls": {}}


def test_the_report_names_only_the_misses_a_same_size_copy_cannot_meet():
    cases = [_case("copy_bound", 2.6, False), _case("beatable", 1.1, False), _case("met", 5.0, True)]
    perf_map = {"run_id": "run", "env": {**ENV, "commit": "abc"}, "ops": {"norm_infer": {"cases": cases}},
                "summary": {"geomean_speedup_device": 1.2, "geomean_speedup_host": 5.0, "geomean_speedup_dobench": 1.1,
                            "cases_meeting_target": 1, "cases": 3, "workload_cases": 3}}
    copies = {"copy_bound": "3.05", "beatable": "0.80", "met": "6.00"}
    rows = [{"run_id": "run", "case": c, "impl": "copy_same_size", "device_us_p50": us} for c, us in copies.items()]
    rows += [{"run_id": "run", "case": c, "impl": "triton_rows", "device_us_p50": "3.40"} for c in copies]
    text = report.section(load_task(NORM), perf_map, rows)
    assert "below a same-size copy's device time: copy_bound (target 2.60 µs, copy 3.05 µs)." in text
    assert "beatable (" not in text and "met (" not in text
    assert "| same-size copy µs |" in text and "| 3.05 |" in text
