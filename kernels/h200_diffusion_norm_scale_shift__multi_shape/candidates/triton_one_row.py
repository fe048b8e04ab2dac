"""triton_two_rows with one row per program and BLOCK_D/512 warps (2 to 8): half the registers per thread, for rows
whose modulation operands are fp32 [1, S, D] (three operand rows per output row), so the map can choose per bucket."""

import triton

from _modulated_norm import ModulatedNorm

PARENT = "triton_two_rows"
MUTATION = "one row per program, warps from the width (BLOCK_D / 512, 2 to 8)"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won every 3072/5120-wide bf16 bucket there; this is the one-row control for the fp32-operand cases "
            "(Helios, Wan TI2V: fp32 [1, S, D] scale and shift), which that task did not have"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size):
    return 1, min(max(triton.next_power_of_2(width) // 512, 2), 8)


_norm = ModulatedNorm(tile_config)


def fused_norm_scale_shift(x, weight, bias, scale, shift, norm_type, eps=1e-5):
    return _norm(x, None, None, weight, bias, scale, shift, norm_type, eps)


def fused_scale_residual_norm_scale_shift(residual, x, gate, weight, bias, scale, shift, norm_type, eps=1e-5):
    return _norm(x, residual, gate, weight, bias, scale, shift, norm_type, eps)
