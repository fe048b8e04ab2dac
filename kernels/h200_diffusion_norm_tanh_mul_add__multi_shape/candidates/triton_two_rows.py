"""norm(x) * tanh(scale) + shift (and the second norm * (1 + scale2)) as one Triton pass: two rows per program,
16-byte accesses, the broadcast operands read through zero strides, and a cached launcher so the host cost per call
is a fraction of SGLang's wrapper. The second variant keeps y in registers for its norm instead of re-reading it.

SGLang 0.5.12's CuTe DSL kernel runs one row per CTA with D/256 warps and a shared-memory CTA reduction; 0.5.23
dropped it, and Z-Image there calls a Triton kernel that does RMSNorm, tanh and the residual add in bf16 steps.
"""

from _tanh_norm import entry_points

PARENT = "sglang_0_5_12"
MUTATION = "Triton row tile (2 rows per program) with broadcast by strides; second norm from registers; cached " \
           "launcher instead of the CuTe DSL + tvm-ffi call path"
EVIDENCE = ["task h200_diffusion_norm_infer__multi_shape map on H200 (run 20261123T132252Z): two rows per program "
            "won every 3072/5120-wide bf16 bucket (e.g. 83.85 µs vs SGLang's 93.03 µs on 27030x3072)"]
SOURCE = "written for this task"


def tile_config(n_rows, width, element_size, sms):
    return 2, (4 if element_size == 2 and n_rows >= 16384 else 8)


fused_norm_tanh_mul_add, fused_norm_tanh_mul_add_norm_scale, rmsnorm_tanh_residual = entry_points(tile_config)
