"""triton_rows's select01 kernel with every load issued before the row's LayerNorm reductions (the plain
scale-shift op has no reduction, and no candidate here for it).

Compiled for sm_90 (`kernelpilot task compile`), triton_rows's select01 program loads x and the token's index
first, but ptxas puts the reductions' warp shuffles, which wait for x, ahead of the weight, bias and chosen-set
loads: 5 of 7 loads late on edge_ln_select01_affine_2x9x96_bf16, a latency-bound case (1.26 µs on the H200 against
a 1.22 µs target, the one measured case of the task that misses it). Here the chosen set's rows are read through a
pointer the index picks (no branch to wait on) and the statistics depend on every load
(`kernelpilot.load_order.issued_before`), so all of them go out at once."""

from kernelpilot.replay import planned

from _modulate import Select01, select01_entry_points
from triton_rows import select01_warps

PARENT = "triton_rows"
MUTATION = "select01: the chosen set read through an index-picked pointer before the reductions, the statistics " \
           "made to depend on every load (bits OR'ed under a runtime zero); warps as the parent"
EVIDENCE = [
    "task compile (sm_90) of triton_rows on edge_ln_select01_affine_2x9x96_bf16: 5 of 7 global loads after the "
    "first shuffle",
    "H200 run 20261203T174109Z-5e9a2a: edge_ln_select01_affine_2x9x96_bf16 1.26 µs against a 1.22 µs target",
]
SOURCE = "written for this task"

(fuse_layernorm_scale_shift_gate_select01_kernel,
 fuse_residual_layernorm_scale_shift_gate_select01_kernel) = select01_entry_points(
    planned(Select01(select01_warps, loads_first=True)))
