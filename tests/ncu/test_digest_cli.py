"""`kernelpilot ncu digest` through the real CLI: formats, baseline deltas, and one-line failures."""

import json

import pytest

from kernelpilot.ncu.classify import _regs_for_blocks
from kernelpilot.schemas import schema_errors

SPILL_UNITS = {"gpu__time_duration.sum": "usecond", "sm__throughput.avg.pct_of_peak_sustained_elapsed": "%",
               "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed": "%",
               "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed": "%",
               "lts__throughput.avg.pct_of_peak_sustained_elapsed": "%", "launch__registers_per_thread": "register/thread",
               "launch__block_size": "", "launch__grid_size": "", "launch__sm_count": "",
               "l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum": "sector",
               "l1tex__t_sectors_pipe_lsu_mem_local_op_st.sum": "sector",
               "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum": "sector",
               "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum": "sector"}


def _launch(duration, local_sectors, dram_pct):
    return {"gpu__time_duration.sum": duration, "sm__throughput.avg.pct_of_peak_sustained_elapsed": "31",
            "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed": dram_pct,
            "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed": dram_pct,
            "lts__throughput.avg.pct_of_peak_sustained_elapsed": "40", "launch__registers_per_thread": "255",
            "launch__block_size": "128", "launch__grid_size": "256", "launch__sm_count": "132",
            "l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum": local_sectors,
            "l1tex__t_sectors_pipe_lsu_mem_local_op_st.sum": local_sectors,
            "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum": "8,388,608",
            "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum": "8,388,608"}


@pytest.fixture
def before_after(write, raw_csv):
    before = write("before/raw.csv", raw_csv(SPILL_UNITS, [("fx_rows_kernel", _launch("812.5", "6,291,456", "48"))]))
    after = write("after/raw.csv", raw_csv(SPILL_UNITS, [("fx_rows_kernel", _launch("301.0", "0", "88"))]))
    return before, after


def test_markdown_has_one_class_and_exactly_one_next_edit(kernelpilot, before_after):
    code, out, err = kernelpilot("ncu", "digest", str(before_after[0]))
    assert code == 0, err
    assert out.count("**Bottleneck: ") == 1 and out.count("**Next edit (one):**") == 1
    assert "**Bottleneck: register-spill-bound**" in out
    assert "Predicted: `l1tex__t_sectors_pipe_lsu_mem_local_op_ld.sum + _op_st.sum`" in out
    assert "at 255 registers/thread" in out  # the edit quotes this kernel's numbers


def test_json_follows_the_schema_and_baseline_reports_deltas_and_class_shift(kernelpilot, before_after):
    before, after = before_after
    code, out, err = kernelpilot("ncu", "digest", str(after), "--baseline", str(before), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert schema_errors(result, "ncu_digest") == []
    kernel = result["kernels"][0]
    assert kernel["bottleneck"]["class"] == "dram-bound"
    comparison = kernel["comparison"]
    assert comparison["class_shift"] == {"from": "register-spill-bound", "to": "dram-bound", "shifted": True}
    deltas = {row["metric"]: row for row in comparison["deltas"]}
    assert deltas["duration_ns"]["delta"] == pytest.approx(301_000 - 812_500)
    assert deltas["duration_ns"]["better"] is True
    assert deltas["local_sectors"]["current"] == 0 and deltas["local_sectors"]["better"] is True
    assert deltas["dram_pct"]["delta"] == pytest.approx(40.0)


def test_markdown_baseline_table(kernelpilot, before_after):
    before, after = before_after
    code, out, _ = kernelpilot("ncu", "digest", str(after), "--baseline", str(before))
    assert code == 0
    assert "class: register-spill-bound -> dram-bound (SHIFTED)" in out
    assert "| duration | 812.50 us | 301.00 us | -511.50 us (-63.0%) better |" in out


def test_register_cap_for_one_more_block():
    # 4 warps per block: 3 blocks fit with <= 168 registers (65536 / 12 warps = 5461 -> 5376 per warp -> 168).
    assert _regs_for_blocks(3, 4) == 168
    assert _regs_for_blocks(2, 8) == 128


@pytest.mark.parametrize("make, cause", [
    (lambda w: w("x.csv", "not,a,report\n"), "not an Nsight Compute CSV export"),
    (lambda w: w("t.csv", '"ID","Kernel Name","gpu__time_duration.sum"\n'), "truncated raw CSV"),
    (lambda w: w("r.csv", '"ID","Kernel Name","a"\n"","",""\n"0","k"\n'), "r.csv:3: truncated row"),
    (lambda w: w("q.csv", '"ID","Kernel Name","a"\n"","",""\n"0","k","12'), "q.csv:3: truncated export"),
    (lambda w: w("missing.ncu-rep", "").with_name("absent.csv"), "no such file"),
])
def test_bad_input_is_one_line_and_nonzero(kernelpilot, write, make, cause):
    code, out, err = kernelpilot("ncu", "digest", str(make(write)))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and cause in err and "Traceback" not in err


def test_no_matching_kernel(kernelpilot, before_after):
    code, _, err = kernelpilot("ncu", "digest", str(before_after[0]), "--kernel", "gemm")
    assert code == 2
    assert err.strip() == f"kernelpilot: error: {before_after[0]}: no kernel matches 'gemm' (kernels: fx_rows_kernel)"


# Prints the modules the CLI loaded, then exits with the CLI's own status, so a failing digest fails the test.
LOADED_MODULES = """
import contextlib, io, runpy, sys
sys.argv = ["kernelpilot", *sys.argv[1:]]
status = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("kernelpilot", run_name="__main__")
    except SystemExit as exit:
        status = exit.code
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] not in sys.stdlib_module_names)))
raise SystemExit(status)
"""


def test_digest_loads_nothing_beyond_the_standard_library(repo_root):
    """`ncu digest` runs on a bare GPU box and stays fast: no third-party module on its path."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LOADED_MODULES, "ncu", "digest", str(repo_root / "tests/ncu/fixtures/copy")],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo_root / "src")})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    loaded = set(done.stdout.split())
    assert "kernelpilot.ncu.digest" in loaded
    assert {name for name in loaded if not name.startswith("kernelpilot")} <= {"__main__", "_distutils_hack"}, loaded
