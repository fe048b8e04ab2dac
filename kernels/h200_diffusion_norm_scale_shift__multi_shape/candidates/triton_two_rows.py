"""Norm + scale/shift (and the residual variant) as one Triton pass: two rows per program, every operand read once
with 16-byte vectors in its own dtype, the modulation operands' broadcast resolved by strides (no expanded copies),
and a cached launcher so the host cost per call is a fraction of SGLang's wrapper.

SGLang's CuTe DSL kernel runs one row per CTA with D/256 warps and a CTA-wide reduction through shared memory;
this keeps whole rows in registers and takes the row-tile policy measured for norm_infer on the same widths.
"""

from _modulated_norm import entry_points

PARENT = "sglang_0_5_12"
MUTATION = "Triton row tile (2 rows per program) with the broadcast by strides; cached launcher instead of the " \
           "CuTe DSL + tvm-ffi call path"
EVIDENCE = ["the tile policy of triton_rows_pair in task h200_diffusion_norm_infer__multi_shape, which won Wan's "
            "75600x5120 bf16 LayerNorm bucket in H200 run 20261123T144933Z-b5ce15 (its benchmarks/results.csv)"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size, sms):
    return 2, (4 if element_size == 2 and n_rows >= 16384 else 8)


fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config)
