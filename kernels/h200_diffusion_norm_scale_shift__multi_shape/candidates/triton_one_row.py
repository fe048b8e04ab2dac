"""triton_two_rows with one row per program and BLOCK_D/512 warps (2 to 8): half the registers per thread, for rows
whose modulation operands are fp32 [1, S, D] (three operand rows per output row), so the map can choose per bucket."""

from kernelpilot.launch import next_pow2

from _modulated_norm import entry_points

PARENT = "triton_two_rows"
MUTATION = "one row per program, warps from the width (BLOCK_D / 512, 2 to 8)"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won every 3072/5120-wide bf16 bucket there; this is the one-row control for the fp32-operand cases "
            "(Helios, Wan TI2V: fp32 [1, S, D] scale and shift), which that task did not have"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size, sms):
    return 1, min(max(next_pow2(width) // 512, 2), 8)


fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config)
