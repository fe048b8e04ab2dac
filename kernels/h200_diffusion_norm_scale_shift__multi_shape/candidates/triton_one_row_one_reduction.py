"""triton_one_row_four_warps with a LayerNorm's mean and variance taken in one reduction of the pairs
(h - k, (h - k)^2), k the row's first element (of x, or of the residual for the residual op), instead of the
mean's reduction followed by the centered squares'.

With four warps on a row, each of the parent's reductions is a round of warp shuffles, a shared-memory exchange
between the warps and a barrier, and the second cannot start before the first has ended. The small cases are
latency-bound (at most 195 rows, one program each), and 17 of the 18 cases whose device target the task misses
are LayerNorms. RMSNorm rows keep the parent's single reduction, fp32 rows its two (`kernelpilot.norm_stats`)."""

from _modulated_norm import entry_points
from triton_one_row_four_warps import tile_config

PARENT = "triton_one_row_four_warps"
MUTATION = "LayerNorm statistics from one reduction of pivot-shifted sums and squares instead of two in sequence"
EVIDENCE = [
    "docs/results.md (H200): 17 of the 18 cases that miss their device target are LayerNorms; the small ones "
    "miss by 0.02-0.42 µs (qwen_image_19x3072_sbd 1.49 µs against 1.39)",
]
SOURCE = "written for this task"

fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config, one_reduction=True)
