"""Several consecutive rows a program, taken one at a time, the next row's x (and residual) loaded, still 16-bit,
before the current row is reduced, and the other operands loaded after the reductions: each program always has a
row's bytes in flight, where triton_one_row_four_warps has none once its row has arrived.

Aimed at the 5120-wide rows with fp32 [1, 1, D] scale and shift, where the parent holds 163 registers a thread and
so 3 rows an SM (62% of the copy ceiling on the H200). Uncapped, the streamed kernel needs 130 there; capped at 128
for rows wider than 4096 it compiles to 128 without spilling, 4 programs of 4 warps an SM, each with the next row
in flight (`kernelpilot task compile`, docs/kernel-resources-sm90.txt). Narrower rows stay uncapped: there ptxas
takes the cap as its budget (78 registers become 126 on 3072-wide rows, 6 programs an SM become 4). The residual
variant's fp32 rows spill under the cap (104 bytes a thread), which the tile sweep's uncapped settings compare."""

from _modulated_norm import entry_points as modulated_entry_points
from triton_one_row_four_warps import tile_config as parent_tile_config

PARENT = "triton_one_row_four_warps"
MUTATION = "ROWS consecutive rows a program, streamed: the next row's 16-bit loads issued before the current " \
           "row's reductions, the modulation loaded after them; 128 registers at most on rows wider than 4096 " \
           "(8 rows a program, fewer where the grid would drop below 2 programs an SM); warps as the parent"
EVIDENCE = ["docs/kernel-resources-sm90.txt and knowledge/wiki/low-occupancy.md: on the H200 the parent runs "
            "wan_t2v_37800x5120_s11d32 (163 registers, 12 warps an SM) at 62% of the copy ceiling and the "
            "bf16-modulated wan_t2v_75600x5120_s11d (95 registers, 20 warps) at 93% (run 20261204T004301Z-d5b112)"]
SOURCE = "written for this task"

STREAMED_ROWS = 8


def tile_config(n_rows, width, element_size, sms):
    rows = STREAMED_ROWS
    while rows > 1 and n_rows < 2 * sms * rows:
        rows //= 2
    return rows, parent_tile_config(n_rows, width, element_size, sms)[1]


def register_cap(width):
    """128 registers (4 blocks of 4 warps in an SM's 64K) for rows wider than 4096, none below."""
    return 128 if width > 4096 else None


def entry_points(tile_config, register_cap=register_cap):
    """This candidate's streamed kernel under a tile policy and register cap (the tile sweep's variants)."""
    return modulated_entry_points(tile_config, stream=True, register_cap=register_cap)


fused_norm_scale_shift, fused_scale_residual_norm_scale_shift = entry_points(tile_config)
