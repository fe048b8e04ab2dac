"""triton_rows with the positions loaded first and the weight loaded in the tile's own layout, so that nothing in
the kernel waits on a barrier before its last load is issued.

Compiled for sm_90 (`task compile`, and the SASS of qwen_image_qk_47x24_d128), triton_rows loads the [128] weight
one element a thread, stores it to shared memory and reads it back in the tile's layout across a barrier; the
positions' load comes after that barrier, and the cos/sin loads need the positions, so a program waits for three
memory round trips one after another. Here the weight is read as a [ROWS, 128] tile (the same row for every row of
the tile, L1 hits after the first), the positions' load goes out with x's, and the cos/sin loads follow it before
the reduction: two round trips, no shared memory, no barrier, 176 instructions a thread against 208. The small
cases are latency-bound (1.2-3.0 µs on the H200 against an empty kernel's 0.77), which is where a round trip
shows."""

from kernelpilot.replay import planned
from _qknorm_rope import QKNormRope
from triton_rows import tile_config

PARENT = "triton_rows"
MUTATION = "positions loaded first and the weight loaded as a [ROWS, head_dim] tile in x's layout: no shared-memory " \
           "layout conversion and no barrier ahead of the positions' load; tiles as the parent"
EVIDENCE = [
    "SASS of triton_rows on qwen_image_qk_47x24_d128 (sm_90, Triton 3.6): LDG.U16 weight, STS, BAR.SYNC, then the "
    "positions' LDG.64 and the cos/sin LDG.128s that depend on it; 208 instructions",
    "H200 run 20261203T174651Z-5663c7: triton_rows misses the device target on the four small Qwen/Z-Image cases "
    "(1.20-3.04 µs against 1.15-2.76)",
]
SOURCE = "written for this task"

_qknorm_rope = planned(QKNormRope(tile_config, no_barrier=True))


def fused_inplace_qknorm_rope(q, k, q_weight, k_weight, cos_sin_cache, positions, *, is_neox, eps=1e-6, head_dim=0,
                              rope_dim=0):
    _qknorm_rope(q, k, q_weight, k_weight, cos_sin_cache, positions, is_neox, eps, head_dim, rope_dim)
