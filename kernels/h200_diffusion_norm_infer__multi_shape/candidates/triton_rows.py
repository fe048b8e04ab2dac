"""Row-tiled LayerNorm/RMSNorm: several rows per program for narrow rows, one wide row per program otherwise, and
a cached launch path so the host cost per call is a fraction of SGLang's wrapper.

SGLang runs one row per program with the JIT launch (about 10 µs of Python per call before the kernel's own
wrapper). Narrow rows (head_dim 128: 256 bytes) leave most of a program idle, so this version packs a
[ROWS, BLOCK_N] tile per program and picks ROWS and warps per width from measured sweeps.
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned

PARENT = "sglang_0_5_23"
MUTATION = "pack several rows per program for narrow rows; cached launcher instead of the JIT call path"
EVIDENCE = [
    "issue 2: SGLang 0.5.12 runs large norm_infer cases at 90-94% of the copy ceiling; headroom is in small "
    "cases and the host path (25-39 µs per call)",
]
SOURCE = "written for this task"


@triton.jit(do_not_specialize=["n_rows", "x_row_stride", "y_row_stride", "eps"])
def _norm_rows_kernel(X, Y, W, B, n_rows, x_row_stride, y_row_stride, eps,
                      N: tl.constexpr, BLOCK_N: tl.constexpr, ROWS: tl.constexpr,
                      IS_RMS: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_N)
    col_ok = cols < N
    mask = (rows < n_rows)[:, None] & col_ok[None, :]
    rows64 = rows.to(tl.int64)[:, None]
    x = tl.load(X + rows64 * x_row_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    if not IS_RMS:
        x = tl.where(mask, x - (tl.sum(x, axis=1) / N)[:, None], 0.0)
    y = x * tl.rsqrt(tl.sum(x * x, axis=1) / N + eps)[:, None]
    if HAS_W:
        y = y * tl.load(W + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    if HAS_B:
        y = y + tl.load(B + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    tl.store(Y + rows64 * y_row_stride + cols[None, :], y.to(Y.dtype.element_ty), mask=mask)


_launch = CachedLauncher(_norm_rows_kernel)


def tile_config(n_rows: int, width: int, element_size: int) -> tuple[int, int]:
    """(rows per program, warps) for a row width; narrow rows pack up to 16 rows, wide rows get 8-16 warps."""
    block = triton.next_power_of_2(width)
    if block <= 256:
        rows = 16 if n_rows >= 16 * 132 * 4 else max(1, min(16, triton.next_power_of_2(n_rows // (132 * 2) or 1)))
        return rows, 4
    if block <= 1024:
        return 4, 4
    return 1, (16 if block * element_size >= 32768 else 8)


def _normalize(x, weight, bias, eps, is_rms, out):
    width = x.shape[-1]
    rows_view = x.view(-1, width) if x.dim() != 2 else x
    if rows_view.stride(-1) != 1:
        rows_view = rows_view.contiguous()
    n_rows = rows_view.shape[0]
    y = torch.empty_like(x) if out is None else out
    y_rows = y.view(-1, width) if y.dim() != 2 else y
    rows, warps = tile_config(n_rows, width, x.element_size())
    block = triton.next_power_of_2(width)
    key = (x.dtype, y.dtype, None if weight is None else weight.dtype, None if bias is None else bias.dtype,
           width, rows, warps, is_rms, aligned(rows_view, y_rows, weight, bias))
    _launch(key, (triton.cdiv(n_rows, rows),),
            (rows_view, y_rows, rows_view if weight is None else weight, rows_view if bias is None else bias,
             n_rows, rows_view.stride(0), y_rows.stride(0), eps, width, block, rows, is_rms,
             weight is not None, bias is not None),
            num_warps=warps)
    return y


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    return _normalize(x, weight, bias, eps, bool(is_rms_norm), out)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _normalize(x, w, None, eps, True, None)
