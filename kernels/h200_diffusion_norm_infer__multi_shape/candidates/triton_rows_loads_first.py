"""triton_rows_pdl with every load issued before the row reductions: x first, then the weight and bias as tiles in
x's own layout, on which x's statistics are made to depend.

Compiled for sm_90 (`kernelpilot task compile`), triton_rows_pdl's loads come late in two ways. Loaded as [N]
vectors, the weight and bias may take a layout of their own and reach x's through shared memory: on
edge_ln_odd_37x200_f32 (fp32 rows of 200, one a program) x's load waits behind the weight's conversion and the
bias's behind x's, three memory round trips one after another; on the packed head_dim rows
(hunyuan_qk_rms_27030x24_d128) x waits behind the weight's. Where they need no conversion, ptxas puts the
reductions' warp shuffles, which wait for x, ahead of their loads: 5 of 9 loads late on
qwen_image_ln_4096x3072_bf16 (82% of the copy ceiling on the H200, 6% over its target). As tiles they need no
conversion, and with x's statistics depending on them (`kernelpilot.load_order.issued_before`) ptxas issues them
first."""

from kernelpilot.replay import planned
from _norm_rows import RowNorm, narrow_packed_tiles

PARENT = "triton_rows_pdl"
MUTATION = "x loaded first, weight and bias as [ROWS, BLOCK_N] tiles in x's layout, x's statistics made to depend " \
           "on them (bits OR'ed under a runtime zero); tiles and launch as the parent"
EVIDENCE = [
    "task compile (sm_90) of triton_rows_pdl: loads after the first shuffle or barrier 5 of 6 on "
    "edge_ln_odd_37x200_f32, 2 of 3 on hunyuan_qk_rms_27030x24_d128, 5 of 9 on qwen_image_ln_4096x3072_bf16",
    "H200 run 20261204T004159Z-c88b44: edge_ln_odd_37x200_f32 1.30 µs against a 1.13 µs target, "
    "qwen_image_ln_4096x3072_bf16 14.61 against 13.82",
]
SOURCE = "written for this task"

_norm = planned(RowNorm(narrow_packed_tiles, pdl=True, loads_first=True))


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    return _norm(x, weight, bias, eps, bool(is_rms_norm), out)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _norm(x, w, None, eps, True, None)
