"""scripts/kernel_resources.py prints each candidate's registers and occupancy over the whole of W."""

import subprocess
import sys

from clirun import one_line_error
from task_folders import NORM_TASK

from kernelpilot.harness import impls
from kernelpilot.harness.spec import load_task

SCRIPT = NORM_TASK.parents[1] / "scripts" / "kernel_resources.py"


def run_script(*task_folders):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, task_folders)], capture_output=True, text=True)


def test_every_candidate_kernel_gets_a_row_and_the_machine_is_named(norm_task_copy):
    result = run_script(norm_task_copy)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# scripts/kernel_resources.py on ") and "triton" in lines[0]
    rows = [line for line in lines if line.startswith("│ ")]
    task = load_task(norm_task_copy)
    triton_candidates = {name for name in task.candidate_names() if not impls.requires_cuda(task, name)}
    assert "triton_rows" in triton_candidates and "cuda_rows" not in triton_candidates
    assert {row.split("│")[1].strip() for row in rows} == triton_candidates  # whole names, none cut
    assert all(row.split("│")[2].strip() == "_norm_rows_kernel" for row in rows)
    assert any("wan_ln_75600x5120_bf16" in row for row in rows)  # a large case: the whole of W was compiled


def test_a_folder_that_is_not_a_task_is_a_one_line_error(tmp_path):
    assert "task.yaml" in one_line_error(run_script(tmp_path))
