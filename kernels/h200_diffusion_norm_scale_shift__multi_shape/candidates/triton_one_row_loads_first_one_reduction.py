"""triton_one_row_loads_first with a LayerNorm's statistics from one reduction (as triton_one_row_one_reduction):
both of the latency-bound one-row kernel's waits shortened, the modulation's loads issued with x's and one round
of exchanges between the warps instead of two."""

from _modulated_norm import entry_points
from triton_one_row_four_warps import tile_config

PARENT = "triton_one_row_loads_first"
MUTATION = "LayerNorm statistics from one reduction of pivot-shifted sums and squares, loads issued first"
EVIDENCE = [
    "triton_one_row_loads_first and triton_one_row_one_reduction each remove one of the two waits of the "
    "one-row kernel on the small LayerNorm cases (SASS, sm_90)",
]
SOURCE = "written for this task"

fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config, loads_first=True,
                                                                            one_reduction=True)
