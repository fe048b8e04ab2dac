"""scripts/host_overhead.py times every Triton candidate's wrapper on the CPU, with the launches stubbed out."""

import subprocess
import sys

from conftest import NORM_TASK

REPO = NORM_TASK.parents[1]


def test_every_candidate_of_the_norm_task_gets_a_figure_per_small_case():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "host_overhead.py"), str(NORM_TASK)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# scripts/host_overhead.py on ") and "triton" in lines[0]
    primitives = {line.split()[1] for line in lines if line.startswith("primitive ")}
    assert {"triton.cdiv", "kernelpilot.launch.ceil_div", "kernelpilot.launch.broadcast_strides"} <= primitives
    timed = [line.split() for line in lines
             if line.startswith(NORM_TASK.name) and line.split()[-1].replace(".", "", 1).isdigit()]
    assert {row[1] for row in timed} == {"triton_rows", "triton_rows_pair", "triton_rows_pdl"}
    assert all(0 < float(row[-1]) < 1000 for row in timed)
    assert "launches outside CachedLauncher" not in result.stdout


def test_no_task_folder_is_a_one_line_usage_error():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "host_overhead.py")], capture_output=True,
                            text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
