"""triton_one_row_four_warps with every operand's load issued before the row reductions.

Compiled for sm_90 (Triton 3.6), the parent's source loads x, scale, shift, weight and bias before the reductions,
but ptxas schedules the first reduction's warp shuffles ahead of the modulation's loads, whose values are needed
only after them: on hunyuan_55x3072_sbd 6 of its 9 global loads come after the first shuffle, which waits for
x. A program then waits for x's memory round trip, reduces, and waits for a second round trip, the
modulation's. Here the statistics are made to depend on every operand's load (their bits OR the row's, masked
by a runtime zero the compiler cannot fold, so the values are unchanged), which ptxas must honour: all 9 loads go
out first. It costs 26 registers a thread (62 to 88 on that case, 32 warps an SM to 20) and 40 instructions
(568 to 608). The small cases are latency-bound, at most 195 rows of one program each, two an SM at most, so the
registers cost them nothing; the map decides on the large ones."""

from _modulated_norm import entry_points
from triton_one_row_four_warps import tile_config

PARENT = "triton_one_row_four_warps"
MUTATION = "the row statistics made to depend on the scale, shift, weight and bias loads (bits OR'ed under a " \
           "runtime zero), so that ptxas issues them before the reductions; tiles and warps as the parent"
EVIDENCE = [
    "SASS of triton_one_row_four_warps (sm_90) on hunyuan_55x3072_sbd: LDG x3, five SHFL.BFLY, then the six "
    "scale and shift LDGs; the same order on every plain-op case (the residual op's loads all come first)",
    "H200 runs of the parent (docs/results.md): it misses the device target on 8 of the 10 small plain-op cases, "
    "by 0.03-0.41 µs (hunyuan_55x3072_sbd 2.03 µs against 1.78, its same-size copy 1.18)",
]
SOURCE = "written for this task"

fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config, loads_first=True)
