"""triton_two_rows with one row per program: half the registers per thread, which the second-norm variant (x, y and
scale2 rows live at once) may need, so the map can choose per bucket. One warp for rows up to 256 wide, else a warp
per 128 elements (up to 8)."""

from kernelpilot.launch import next_pow2

from _tanh_norm import entry_points

PARENT = "triton_two_rows"
MUTATION = "one row per program, warps from the width (1 up to 256 wide, else BLOCK_D / 128 up to 8)"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won the wide bf16 buckets of a plain norm; the fused second norm holds more per row, so one row is the "
            "control",
            "H200 sweep (docs/small-tiles-sweep-h200.txt): the second norm over 5 rows of 512 ran in 1.30 µs with 4 "
            "warps against 1.43 µs with 2; over 6 rows of 256 in 1.41 µs with 1 warp against 1.58 µs with 2"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size, sms):
    block = next_pow2(width)
    return 1, 1 if block <= 256 else min(block // 128, 8)


fused_norm_tanh_mul_add, fused_norm_tanh_mul_add_norm_scale, rmsnorm_tanh_residual = entry_points(tile_config)
