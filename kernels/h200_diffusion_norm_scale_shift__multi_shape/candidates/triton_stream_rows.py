"""Consecutive rows a program, taken one at a time, the next row's x (and residual) loaded, still 16-bit, before
the current row is reduced, and the other operands loaded after the reductions: each program always has a row's
bytes in flight, where triton_one_row_four_warps has none once its row has arrived.

Aimed at the 5120-wide rows with fp32 [1, 1, D] scale and shift, where the parent holds 163 registers a thread and
so 3 rows an SM (62% of the copy ceiling on the H200). Capped at 128 registers, the streamed kernel compiles there
without spilling to 4 programs of 4 warps an SM, each with the next row in flight (`kernelpilot task compile`,
docs/kernel-resources-sm90.txt). Narrower rows stay uncapped: there ptxas takes the cap as its budget (78
registers become 126 on 3072-wide rows, 6 programs an SM become 4).

The residual op streams its rows the same way but uncapped: under the cap its fp32 rows spill 104 bytes a thread
(wan_t2v_res_37800x5120_s11d32_gnone) to 144 (..._sone_g11d32_wb32), and uncapped they hold 188 registers.
On an H100 (docs/stream-rows-sweep-h100.txt) 4 uncapped rows a program ran wan_t2v_res_37800x5120_sone_g11d32_wb32
in 520.4 µs against 554.4 with one row and 648.8 capped (the parent: 577.3, torch.compile 533.6, in H100 run
20261207T184129Z-b9300b), and wan_t2v_res_37800x5120_s11d32_gnone in 518.1 against 511.3 with one row. On the
plain op 4 capped rows ran wan_t2v_37800x5120_s11d32 in 261.9 µs against 273.9 with one row (the parent: 322.2 in
that run), but one row stayed ahead on the 3072-wide bf16-modulated rows (fire_edit_8424x3072_s11d)."""

from kernelpilot.launch import rows_for_programs

from _modulated_norm import entry_points as modulated_entry_points
from triton_one_row_four_warps import tile_config as parent_tile_config

PARENT = "triton_one_row_four_warps"
MUTATION = "rows taken one at a time, the next row's 16-bit loads issued before the current row's reductions and " \
           "the modulation loaded after them: 4 rows a program capped at 128 registers on plain rows wider than " \
           "4096 (fewer where the grid would drop below 2 programs an SM), one row on narrower ones, the residual " \
           "op's rows uncapped; warps as the parent"
EVIDENCE = ["docs/kernel-resources-sm90.txt and knowledge/wiki/low-occupancy.md: on the H200 the parent runs "
            "wan_t2v_37800x5120_s11d32 (163 registers, 12 warps an SM) at 62% of the copy ceiling and the "
            "bf16-modulated wan_t2v_75600x5120_s11d (95 registers, 20 warps) at 93% (run 20261204T004301Z-d5b112)",
            "docs/stream-rows-sweep-h100.txt: rows, warps and register cap of this kernel on an H100, and this "
            "candidate against its parent and torch.compile there"]
SOURCE = "written for this task"

STREAMED_ROWS = 4
WIDE_ROW = 4096


def tile_config(n_rows, width, element_size, sms):
    rows = rows_for_programs(STREAMED_ROWS if width > WIDE_ROW else 1, n_rows, 2 * sms)
    return rows, parent_tile_config(n_rows, width, element_size, sms)[1]


def register_cap(width):
    """128 registers (4 blocks of 4 warps in an SM's 64K) for rows wider than 4096, none below."""
    return 128 if width > WIDE_ROW else None


def entry_points(tile_config, register_cap=register_cap):
    """This candidate's streamed kernel under a tile policy and register cap (the tile sweep's variants)."""
    return modulated_entry_points(tile_config, stream=True, register_cap=register_cap)


fused_norm_scale_shift = entry_points(tile_config)[0]
fused_scale_residual_norm_scale_shift = entry_points(tile_config, register_cap=None)[1]
