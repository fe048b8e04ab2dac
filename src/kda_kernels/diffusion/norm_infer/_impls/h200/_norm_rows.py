"""The row-tiled normalization kernel and its lean wrapper, shared by this task's candidates (not a candidate)."""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div, multiprocessors, next_pow2
from kernelpilot.load_order import issued_before
from kernelpilot.pdl import pdl_prologue



@triton.jit(do_not_specialize=["n_rows", "eps"])
def _norm_rows_kernel(X, Y, W, B, n_rows, x_row_stride, y_row_stride, eps,
                      N: tl.constexpr, BLOCK_N: tl.constexpr, ROWS: tl.constexpr,
                      IS_RMS: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr, LOADS_FIRST: tl.constexpr,
                      PDL: tl.constexpr):
    """LOADS_FIRST issues every load before the reductions: x first, then the weight and bias as [ROWS, BLOCK_N]
    tiles in x's layout (one copy per row, L1 hits), on which x's statistics are made to depend
    (`issued_before`). Loaded as [BLOCK_N] vectors they may take a layout of their own and reach x's through
    shared memory, behind a barrier that x's load, issued after it, waits on; and where they do not, ptxas puts
    the reductions' shuffles, which wait for x, ahead of their loads."""
    pdl_prologue(PDL)
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_N)
    col_ok = cols < N
    mask = (rows < n_rows)[:, None] & col_ok[None, :]
    rows64 = rows.to(tl.int64)[:, None]
    # Weight and bias are loaded before x's reductions so that their memory round trip overlaps x's: on small
    # cases the kernel is two latencies long otherwise.
    if LOADS_FIRST:
        x = tl.load(X + rows64 * x_row_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        tile_cols = tl.zeros((ROWS, 1), tl.int32) + cols[None, :]
        tile_ok = tl.zeros((ROWS, 1), tl.int1) | col_ok[None, :]
        zero = n_rows >> 31  # n_rows is never negative
        if HAS_W:
            w = tl.load(W + tile_cols, mask=tile_ok, other=0.0).to(tl.float32)
            x = issued_before(x, w, zero)
        if HAS_B:
            b = tl.load(B + tile_cols, mask=tile_ok, other=0.0).to(tl.float32)
            x = issued_before(x, b, zero)
    else:
        if HAS_W:
            w = tl.load(W + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
        if HAS_B:
            b = tl.load(B + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
        x = tl.load(X + rows64 * x_row_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    if not IS_RMS:
        x = tl.where(mask, x - (tl.sum(x, axis=1) / N)[:, None], 0.0)
    y = x * tl.rsqrt(tl.sum(x * x, axis=1) / N + eps)[:, None]
    if HAS_W:
        y = y * w
    if HAS_B:
        y = y + b
    tl.store(Y + rows64 * y_row_stride + cols[None, :], y.to(Y.dtype.element_ty), mask=mask)


class RowNorm:
    """norm_infer and the one-pass RMSNorm over one kernel, with a tile policy (rows per program, warps), launched
    with programmatic dependent launch when `pdl`, every load issued before the reductions when `loads_first`."""

    def __init__(self, tile_config, pdl=False, loads_first=False):
        self.tile_config = tile_config
        self.loads_first = loads_first
        self.launch = CachedLauncher(_norm_rows_kernel, pdl=pdl)

    def __call__(self, x, weight, bias, eps, is_rms, out):
        width = x.shape[-1]
        rows_view = x if x.dim() == 2 else x.reshape(-1, width)
        if rows_view.stride(-1) != 1:
            rows_view = rows_view.contiguous()
        y = torch.empty_like(rows_view) if out is None else out
        y_rows = y if y.dim() == 2 else y.view(-1, width)
        n_rows, x_stride, y_stride = rows_view.shape[0], rows_view.stride(0), y_rows.stride(0)
        rows, warps = self.tile_config(n_rows, width, x.element_size(), multiprocessors(x))
        # Triton specializes pointers and strides on 16-divisibility; the key pins both.
        key = (x.dtype, y.dtype, None if weight is None else weight.dtype, None if bias is None else bias.dtype,
               width, rows, warps, is_rms, x_stride % 16 == 0, y_stride % 16 == 0,
               aligned(rows_view, y_rows, weight, bias))
        self.launch(key, (ceil_div(n_rows, rows),),
                    (rows_view, y_rows, rows_view if weight is None else weight, rows_view if bias is None else bias,
                     n_rows, x_stride, y_stride, eps, width, next_pow2(width), rows, is_rms,
                     weight is not None, bias is not None, self.loads_first),
                    num_warps=warps)
        return y if out is not None or x.dim() == 2 else y.view(x.shape)


def narrow_packed_tiles(n_rows, width, element_size, sms):
    """Per the H200 sweeps (benchmarks/tile-sweep-h200.txt, docs/norm-tiles-sweep-h200.txt): head_dim rows packed
    16 per program, wide rows one per program with 4 warps in 16-bit dtypes and 8 in fp32. With no more rows than SMs, one row per program:
    packed, 37 fp32 rows of 200 ran as 3 programs at 2.8 µs against SGLang's 1.55 µs (H200 run
    20261123T164321Z-ed9fdf)."""
    block = next_pow2(width)
    if n_rows <= sms:
        return 1, max(1, min(8, block * element_size // 512))
    if block <= 256:  # 16384 rows of 128: 3.32 µs at 16x8 against 3.69 at 8x4 (docs/norm-tiles-sweep-h200.txt)
        return (16, 4) if n_rows >= 65536 else (16, 8)
    return 1, (4 if element_size == 2 else 8)


def wide_pair_tiles(n_rows, width, element_size, sms):
    """As narrow_packed_tiles, but two wide rows per program (4 warps for bf16 at 16K+ rows, else 8)."""
    if next_pow2(width) <= 256 or n_rows <= sms:
        return narrow_packed_tiles(n_rows, width, element_size, sms)
    return 2, (4 if element_size == 2 and n_rows >= 16384 else 8)
