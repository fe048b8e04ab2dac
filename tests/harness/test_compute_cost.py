"""FLOP-counted tasks: the count comes from reference.py, the rate is read against the measured matmul ceiling."""

import shutil
from pathlib import Path

import pytest
import torch
import yaml

from kernelpilot.cli import main
from kernelpilot.harness import report, runner
from kernelpilot.harness.isolation import WorkerResult
from kernelpilot.harness.spec import load_task

KERNELS = Path(__file__).resolve().parents[2] / "kernels"
MHA = KERNELS / "h200_mha__bf16_head128_total32768"
INT8 = KERNELS / "h200_int8_scaled_mm__m64_n2048_k2048_bias"
ENV = {"gpu": "NVIDIA H200", "sm_count": 132, "driver": "580", "cuda": "13.0", "torch": "2.11", "triton": "3.6",
       "sm_clock_mhz": 1980, "mem_clock_mhz": 3201}


def _timed(p50_us: float, flops: int) -> dict:
    return {"correct": True, "device": {"p50": p50_us, "p10": p50_us, "p90": p50_us}, "host": {"p50": 20.0},
            "dobench_us": p50_us, "bytes": 1 << 20, "flops": flops}


def test_the_reference_tasks_count_their_flops():
    mha = load_task(MHA)
    assert mha.flops_dtypes == {"bfloat16"} and load_task(INT8).flops_dtypes == {"int8"}
    q = torch.empty(4, 16, 8192, 128, device="meta")
    reference = runner.impls.reference_module(mha)
    assert reference.attention_flops(q, q, q, causal=False) == 4 * 4 * 16 * 8192 ** 2 * 128
    assert reference.attention_flops(q, q, q, causal=True) == 2 * 4 * 16 * 8192 ** 2 * 128
    a, b = torch.empty(64, 2048, device="meta"), torch.empty(2048, 2048, device="meta")
    assert runner.impls.reference_module(load_task(INT8)).scaled_mm_flops(a, b) == 2 * 64 * 2048 * 2048


def test_rows_carry_the_flop_rate_and_the_compute_floor_sets_the_target():
    task = load_task(MHA)
    case = task.cases[0]
    flops = 10 ** 12
    results = {"sdpa_flash": WorkerResult(cases={case.id: _timed(2000.0, flops)}),
               "triton_flash": WorkerResult(cases={case.id: _timed(2500.0, flops)})}
    calibration = {"copy_gbps": 4000.0, "empty_us": 1.0, "matmul_tflops": {"bfloat16": 800.0}, "env": ENV}
    rows = {r["impl"]: r for r in runner._case_rows(task, case.id, case.op, results, calibration, "run", None)}
    assert rows["triton_flash"]["tflops"] == pytest.approx(400.0)
    assert rows["triton_flash"]["compute_fraction"] == pytest.approx(0.5)
    assert rows["matmul_ceiling"]["device_us_p50"] == pytest.approx(1250.0)
    # within 10% of the baseline (2000 / 0.9) is looser than the floor here, so the floor does not bind
    assert rows["triton_flash"]["target_us"] == pytest.approx(2000.0 / 0.9)
    calibration["matmul_tflops"] = {"bfloat16": 400.0}  # a slower chip: the compute floor (2500 µs) binds
    rows = {r["impl"]: r for r in runner._case_rows(task, case.id, case.op, results, calibration, "run", None)}
    assert rows["triton_flash"]["target_us"] == pytest.approx(2500.0) and rows["triton_flash"]["meets_target"]


def test_the_report_states_the_matmul_ceiling_and_each_winners_share_of_it(tmp_path):
    perf_map = {"run_id": "run", "env": {**ENV, "commit": "abc"}, "ops": {"attention": {"cases": []}},
                "summary": {"geomean_speedup_device": 0.95, "geomean_speedup_host": 1.0, "geomean_speedup_dobench": 0.95,
                            "cases_meeting_target": 0, "cases": 0, "workload_cases": 0}}
    ceilings = [{"case": "c", "impl": "copy_ceiling", "gbps": "4055.0", "run_id": "run"},
                {"case": "c", "impl": "matmul_ceiling", "tflops": "752.4", "run_id": "run"}]
    text = report.section(load_task(MHA), perf_map, ceilings)
    assert "Matmul ceiling measured in the same run" in text and "752 TFLOP/s" in text
    assert "| TFLOP/s | % matmul ceiling |" in text


def test_validate_names_a_flop_counter_the_reference_lacks(tmp_path, capsys):
    root = tmp_path / INT8.name
    shutil.copytree(INT8, root, ignore=shutil.ignore_patterns("__pycache__", "ledgers", "benchmarks"))
    spec = yaml.safe_load((root / "task.yaml").read_text())
    spec["cost"]["int8_scaled_mm"]["flops"] = "gemm_flops"
    (root / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert main(["task", "validate", str(root)]) != 0
    error = capsys.readouterr().err
    assert "gemm_flops" in error and "reference.py does not define" in error and "Traceback" not in error
