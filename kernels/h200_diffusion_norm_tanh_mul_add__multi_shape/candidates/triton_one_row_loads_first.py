"""triton_one_row with every operand's load issued before the first norm's reductions.

Compiled for sm_90 (Triton 3.6), ptxas schedules the reduction's warp shuffles, which wait for x, ahead of the
loads whose values are needed only after it: on zimage_tanh_4096x3840 6 of the kernel's 8 global loads (tanh's
scale and the per-token shift), on zimage_tanh_norm2_4096x3840 9 of 12, on every small edge case most of them. A
program then waits for x's round trip, reduces, and waits for a second one. Here the statistics depend on every
operand's load (`kernelpilot.load_order.issued_before`: their bits OR'ed under a runtime zero, values unchanged),
so all of them go out first. The mid-size Z-Image rows miss their targets by 1% (plain, residual: 89% of the copy
ceiling against 90%) to 21% (the second norm); the edge cases are latency-bound."""

from _tanh_norm import entry_points
from triton_one_row import tile_config

PARENT = "triton_one_row"
MUTATION = "the first norm's statistics made to depend on every operand's load (bits OR'ed under a runtime zero), " \
           "so that ptxas issues them before the reductions; tiles and warps as the parent"
EVIDENCE = [
    "task compile (sm_90) of triton_one_row: late loads (after the first shuffle) 6 of 8 on zimage_tanh_4096x3840, "
    "9 of 12 on zimage_tanh_norm2_4096x3840",
    "H200 run 20261203T174915Z-568a25: zimage_tanh_4096x3840 25.99 µs against a 25.74 µs target, "
    "zimage_tanh_norm2_4096x3840 41.61 against 34.32",
]
SOURCE = "written for this task"

fused_norm_tanh_mul_add, fused_norm_tanh_mul_add_norm_scale, rmsnorm_tanh_residual = entry_points(
    tile_config, loads_first=True)
