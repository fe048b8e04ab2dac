"""scripts/gpu/sweep_small_tiles.py builds its variants from the candidates' own helpers and entry points: every
case it names exists, and a variant under the Triton interpreter matches the reference on the small cases."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Run in a child process: Triton must be imported with TRITON_INTERPRET=1 set for its kernels to run on the CPU.
CHECK = '''
import sys
sys.path.insert(0, "scripts/gpu")
import torch
from kernelpilot.harness.interpreter import patch_interpreter
patch_interpreter()  # as the harness's interpreter checks run (runtime loop bounds, bf16 rounding)
import sweep_small_tiles as sweep
from kernelpilot.harness import impls
from kernelpilot.harness.benchcase import bound_call
from kernelpilot.harness.correctness import named_outputs, reference_outputs, relative_error
from kernelpilot.harness.inputs import clone_args, make_args, upcast
from kernelpilot.harness.spec import load_task
from sweep import candidate_module, first_output

for folder, candidate, variant, settings, case_ids in sweep.SWEEPS:
    task = load_task(sweep.KERNELS / folder)
    cases = {case.id: case for case in task.cases}
    missing = [case_id for case_id in case_ids if case_id not in cases]
    assert not missing, f"{folder}: no case {missing}"
    entry = variant(candidate_module(task, candidate), **settings[-1])
    for case_id in case_ids:
        case = cases[case_id]
        if not case.interpret:
            continue
        op = task.ops[case.op]
        values = make_args(case, 7, "cpu")
        reference = getattr(impls.reference_module(task), case.op)
        expected = first_output(reference_outputs(op, reference, upcast(values, torch.float64)))
        checked = clone_args(values)
        got = first_output(named_outputs(op, checked, bound_call(op, entry(case.op), checked)(), used_out=False))
        error, _ = relative_error(got, expected)
        assert error < 1e-2, f"{case_id} under {settings[-1]}: relative error {error:.2e}"
        print("checked", case_id, candidate)
'''


def test_every_sweep_names_real_cases_and_its_variants_match_the_reference():
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    checked = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("checked ")]
    assert "edge_rope_3d_40x6x64_f16" in checked and "edge_neox_partial_5x2x1_d64_r32_bf16" in checked
    assert "edge_res_rms_frame_gate_2x4x256_bf16" in checked and len(checked) >= 14, result.stdout
    streamed = {line.split()[1] for line in result.stdout.splitlines() if line.endswith(" triton_stream_rows")}
    # several rows a program (the last setting of each streamed sweep), which the task's own checks never launch
    assert {"edge_ln_per_frame_2x6x256_bf16", "edge_tanh_residual_1x5x256_bf16"} <= streamed, result.stdout
