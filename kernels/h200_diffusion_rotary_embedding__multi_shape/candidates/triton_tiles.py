"""Rotary embedding with row tiles of about 4K elements and a cached launch path.

SGLang's standard kernel loads the even and the odd elements of each pair with two stride-2 gathers and is
autotuned over tiny tiles (1 to 8 heads of 32..64 pairs) with one program per token; its LTX-2 kernel (0.5.12)
runs one head per program with a single warp (13-29% of the copy ceiling). Here the standard kernel reads whole
rows in 16-byte vectors and separates the pairs in registers, and the LTX-2 kernel takes enough heads per program
to fill the GPU; both rounding contracts are kept. The LTX-2 tiles the sweep chose hold 2 to 4 elements of a
half-row a thread, so their loads of x, cos and sin are 4 or 8 bytes wide (`task compile`,
docs/kernel-resources-sm90.txt), not 16: the sweep timed the 16-byte variants (32 heads x 4 warps on 1536 tokens)
and found them slower.
"""

from kernelpilot.launch import ceil_div, next_pow2, rows_for_programs

from kernelpilot.replay import planned
from _rope import Ltx2Split, RotaryPairs

PARENT = "sglang_0_5_23"
MUTATION = "whole-row 16-byte loads with pairs split in registers, ~4K-element tiles (smaller below 48 programs); " \
           "LTX-2: several heads per program, at most 2K elements; cached launcher"
EVIDENCE = [
    "issue 3: SGLang 0.5.12 runs standard RoPE at 62% of the copy ceiling and LTX-2 split RoPE at 13-29%; "
    "0.5.23 is 2.3-4.9x faster on LTX-2 (BASELINES.md)",
]
SOURCE = "written for this task"


def tile_rows(n_rows, width):
    """~4K-element tiles, shrunk until there are at least 48 programs, with a warp per 128 elements (up to 4): the
    H200 sweep (docs/small-tiles-sweep-h200.txt) ran 240 rows of 64 in 0.89 µs as 4-row tiles against 1.14 µs as
    32-row ones; the task run went from 1.45 µs (one 64-row tile, run 20261203T084602Z-40747b) to 0.82 µs
    (20261203T174326Z-6a0b16)."""
    block = next_pow2(width)
    rows = rows_for_programs(max(1, 4096 // block), n_rows, 48)
    return rows, max(1, min(4, rows * block // 128))


def heads_per_program(token_rows, heads, half, sms):
    """At least ~4 programs per SM when the token count allows it, else all heads of a token per program, and at
    most 2K elements per program: the sweep ran [1536, 32 x 128] in 10.66 µs with 16 heads per program against
    10.88 µs with 32."""
    wanted = next_pow2(max(1, ceil_div(token_rows * heads, 4 * sms)))
    block = min(next_pow2(heads), wanted, max(1, 1024 // next_pow2(half)))
    return block, max(1, min(8, block // 2))


_pairs = planned(RotaryPairs(tile_rows))
_ltx2 = planned(Ltx2Split(heads_per_program))


def apply_rotary_embedding(x, cos, sin, interleaved=False):
    return _pairs(x, cos, sin, interleaved)


def apply_ltx2_split_rotary_emb(x, cos, sin):
    return _ltx2(x, cos, sin)
