"""triton_one_row with 4 warps for 16-bit rows of 512+ elements (BLOCK_D/128 warps for narrower ones, 8 at most
for fp32): the H200 sweep of this kernel (docs/norm-tiles-sweep-h200.txt) had 4 warps fastest on every 1536-,
3072- and 5120-wide bf16 case it timed, large and small, where triton_one_row's BLOCK_D/512 gives 8."""

from kernelpilot.launch import next_pow2

from _modulated_norm import entry_points

PARENT = "triton_one_row"
MUTATION = "4 warps for 16-bit rows (BLOCK_D/128 below 512 elements), up to 8 for fp32, one row per program"
EVIDENCE = ["docs/norm-tiles-sweep-h200.txt (scripts/gpu/sweep_small_tiles.py on an H200): one row x 4 warps "
            "ran qwen_image_4096x3072_s11d in 16.24 µs against 32.23 with 8 warps (triton_one_row: 19.98 in run "
            "20261123T151941Z-075164), wan_t2v_75600x5120_s11d in 396.67 against 451.56, hunyuan_27085x3072_sbd "
            "in 86.94 against 119.45"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size, sms):
    return 1, max(1, min(next_pow2(width) // 128, 4 if element_size == 2 else 8))


fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config)
