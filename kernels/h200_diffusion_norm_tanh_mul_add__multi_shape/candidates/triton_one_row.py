"""triton_two_rows with one row per program and BLOCK_D/512 warps (2 to 8): half the registers per thread, which
the second-norm variant (x, y and scale2 rows live at once) may need, so the map can choose per bucket."""

from kernelpilot.launch import next_pow2

from _tanh_norm import entry_points

PARENT = "triton_two_rows"
MUTATION = "one row per program, warps from the width (BLOCK_D / 512, 2 to 8)"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won the wide bf16 buckets of a plain norm; the fused second norm holds more per row, so one row is the "
            "control"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size):
    return 1, min(max(next_pow2(width) // 512, 2), 8)


fused_norm_tanh_mul_add, fused_norm_tanh_mul_add_norm_scale, rmsnorm_tanh_residual = entry_points(tile_config)
