"""On a GPU: a replayed call computes exactly what the wrapper's own Python path computes on the same inputs, for
each kind of plan the diffusion candidates make (one output, a tuple with None in it, in-place arguments,
scratch and wave pipelines). Bit for bit, except where a kernel sums with float atomics: their order varies from
run to run, so those outputs agree to rounding."""

import pytest
import torch

from kernelpilot import replay
from kernelpilot.harness import impls
from kernelpilot.harness.benchcase import bound_call
from kernelpilot.harness.correctness import named_outputs
from kernelpilot.harness.inputs import clone_args, make_args
from kernelpilot.harness.spec import load_task

pytestmark = pytest.mark.gpu

CASES = [  # (task, candidate, case, sums with float atomics)
    ("h200_diffusion_norm_infer__multi_shape", "triton_rows_pair", "zimage_qk_rms_4096_d128", False),
    ("h200_diffusion_norm_infer__multi_shape", "triton_rows_pdl", "edge_ln_strided_rows_24x128_f16", False),
    ("h200_diffusion_fuse_scale_shift__multi_shape", "triton_rows", "qwen_edit_ln_select01_8424x3072", False),
    ("h200_diffusion_qknorm_rope__multi_shape", "triton_rows", "qwen_image_qk_4096x24_d128", False),
    ("h200_diffusion_group_norm_silu__multi_shape", "triton_l2_waves", "hunyuan_vae_128x17x256x256_f16", True),
    ("h200_diffusion_norm_tanh_mul_add__multi_shape", "triton_two_rows", "zimage_tanh_norm2_4096x3840", False),
]


@pytest.mark.parametrize("task_name,candidate,case_id,atomic_sums", CASES)
def test_replayed_call_equals_the_python_path(repo_root, task_name, candidate, case_id, atomic_sums):
    task = load_task(repo_root / "kernels" / task_name)
    case = next(c for c in task.cases if c.id == case_id)
    op = task.ops[case.op]
    fn = impls.resolve(task, candidate).functions[case.op]
    with torch.no_grad():
        bound_call(op, fn, make_args(case, seed=1, device="cuda"))()  # plans this signature
        before = replay.stats()["replays"]
        values = make_args(case, seed=2, device="cuda")
        python_values = clone_args(values)
        replayed = named_outputs(op, values, bound_call(op, fn, values)(), used_out=False)
        assert replay.stats()["replays"] > before, replay.refusals()
        wrapper_path = named_outputs(op, python_values, _python_path(op, fn, python_values), used_out=False)
        torch.cuda.synchronize()
    assert replayed.keys() == wrapper_path.keys()
    for name in replayed:
        if atomic_sums:
            torch.testing.assert_close(replayed[name], wrapper_path[name], rtol=2e-3, atol=2e-3, msg=name)
        else:
            assert torch.equal(replayed[name], wrapper_path[name]), name


def _python_path(op, fn, values):
    with replay.python_path_only():
        return bound_call(op, fn, values)()
