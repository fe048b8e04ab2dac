"""triton_two_rows with one row per program and BLOCK_D/512 warps (2 to 8): half the registers per thread, which
the second-norm variant (x, y and scale2 rows live at once) may need, so the map can choose per bucket."""

import triton

from _tanh_norm import TanhNorm

PARENT = "triton_two_rows"
MUTATION = "one row per program, warps from the width (BLOCK_D / 512, 2 to 8)"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won the wide bf16 buckets of a plain norm; the fused second norm holds more per row, so one row is the "
            "control"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size):
    return 1, min(max(triton.next_power_of_2(width) // 512, 2), 8)


_norm = TanhNorm(tile_config)


def fused_norm_tanh_mul_add(x, weight, bias, scale, shift, norm_type, eps=1e-5):
    return _norm(x, weight, bias, scale, shift, norm_type, eps)


def fused_norm_tanh_mul_add_norm_scale(x, weight, bias, scale, shift, weight2, bias2, scale2, norm_type, eps=1e-5):
    return _norm(x, weight, bias, scale, shift, norm_type, eps, second=(weight2, bias2, scale2))


def rmsnorm_tanh_residual(x, gate, residual, weight, eps):
    return _norm(x, weight, None, gate, residual, "rms", eps)
