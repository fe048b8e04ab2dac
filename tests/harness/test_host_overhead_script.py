"""scripts/host_overhead.py times every Triton candidate's wrapper on the CPU, with the launches stubbed out."""

import subprocess
import sys

from clirun import one_line_error
from task_folders import NORM_TASK

from kernelpilot.harness import impls
from kernelpilot.harness.spec import load_task

REPO = NORM_TASK.parents[1]
SCRIPT = REPO / "scripts" / "host_overhead.py"
RAW_TRITON_LAUNCH = '''"""Launches its kernel with kernel[grid](...), not through CachedLauncher."""
import torch
import triton
import triton.language as tl


@triton.jit
def _copy(x_ptr, y_ptr):
    tl.store(y_ptr, tl.load(x_ptr))


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    y = torch.empty_like(x)
    _copy[(1,)](x, y)
    return y
'''


def run_script(*task_folders):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, task_folders)], capture_output=True, text=True,
                          timeout=300)


def rows_of(stdout, candidate):
    return [line for line in stdout.splitlines() if line.split()[1:2] == [candidate]]


def test_every_candidate_of_the_norm_task_gets_a_figure_per_small_case():
    result = run_script(NORM_TASK)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# scripts/host_overhead.py on ") and "triton" in lines[0]
    primitives = {line.split()[1] for line in lines if line.startswith("primitive ")}
    assert {"triton.cdiv", "kernelpilot.launch.ceil_div", "kernelpilot.launch.broadcast_strides"} <= primitives
    timed = [line.split() for line in lines
             if line.startswith(NORM_TASK.name) and line.split()[-1].replace(".", "", 1).isdigit()]
    task = load_task(NORM_TASK)
    assert {row[1] for row in timed} == {name for name in task.candidate_names() if not impls.requires_cuda(task, name)}
    assert all(0 < float(row[-1]) < 1000 for row in timed)
    assert "launches outside CachedLauncher" not in result.stdout


def test_no_task_folder_is_a_one_line_usage_error():
    result = run_script()
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_a_folder_that_is_no_task_is_a_one_line_error_before_anything_is_timed(tmp_path):
    result = run_script(NORM_TASK, tmp_path)
    assert "not a task folder" in one_line_error(result)
    assert result.stdout == ""


def test_a_candidate_that_launches_outside_cached_launcher_gets_one_row_naming_its_error(norm_task_copy):
    (norm_task_copy / "candidates" / "raw_launch.py").write_text(RAW_TRITON_LAUNCH)
    result = run_script(norm_task_copy)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    failed = rows_of(result.stdout, "raw_launch")
    assert len(failed) == 1 and "fails on the CPU: " in failed[0], result.stdout
    assert rows_of(result.stdout, "triton_rows"), "the candidates after the failing one are still timed"
