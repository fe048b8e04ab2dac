"""QK-norm + RoPE in one Triton launch for q and k: several (token, head) rows per program, the rotation done on a
register tile reshaped into pairs, and a cached launcher so the host cost per call is a fraction of SGLang's.

SGLang 0.5.12 gives one warp per row (head_dim 128: 4 elements per lane, 8-byte accesses) and loops a persistent
grid; this packs a [ROWS, 128] tile per program so every thread issues 16-byte loads and stores, and reads each
row's cos/sin slice once (rows of one token share it, so it stays in L1).
"""

from kernelpilot.replay import planned
from _qknorm_rope import QKNormRope

PARENT = "sglang_0_5_12"
MUTATION = "a [ROWS, head_dim] tile per program with 16-byte accesses instead of a warp per row; q and k in one " \
           "launch; cached launcher instead of the tvm-ffi call path"
EVIDENCE = [
    "H200 run 20261123T145717Z-88010b (benchmarks/results.csv): 1.26-1.32x over SGLang 0.5.12 on the four large "
    "cases; the rows-per-program policy came from an unkept tile sweep of task h200_diffusion_norm_infer__multi_shape",
    "issue 4: SGLang's fused qknorm_rope is about 1.07-1.11x over the unfused path; the work is one read and one "
    "write of q and k",
]
SOURCE = "written for this task"


def tile_config(n_rows, head_dim):
    """Rows per program by row count and width, and a warp per 256 elements of the tile (8 per thread): on the H200
    sweep (docs/small-tiles-sweep-h200.txt) 8 rows of 128 with 4 warps ran [19 x 48 heads] in 1.19 µs against
    1.41 µs as 4 rows."""
    if head_dim >= 256:
        return 4, 4
    rows = 16 if n_rows >= 65536 else 8 if head_dim >= 128 else 4
    return rows, max(1, min(4, rows * head_dim // 256))


_qknorm_rope = planned(QKNormRope(tile_config))


def fused_inplace_qknorm_rope(q, k, q_weight, k_weight, cos_sin_cache, positions, *, is_neox, eps=1e-6, head_dim=0,
                              rope_dim=0):
    _qknorm_rope(q, k, q_weight, k_weight, cos_sin_cache, positions, is_neox, eps, head_dim, rope_dim)
