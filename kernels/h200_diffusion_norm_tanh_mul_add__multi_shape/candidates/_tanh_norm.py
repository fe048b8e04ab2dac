"""The row kernel for norm(x) * tanh(scale) + shift, optionally followed by norm(y) * (1 + scale2), and its lean
wrapper, shared by this task's candidates (not a candidate).

Each program takes ROWS rows of [B*S, D], reads x once with 16-byte vectors and writes y (and y2) once; the
[1|B, 1|S, D] modulation operands are read through their broadcast strides (0 along broadcast dims), never
expanded in memory. The second norm reads y as rounded for the store, from registers. The streamed kernel takes
its ROWS rows one after another instead of together.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, broadcast_strides, ceil_div, multiprocessors, next_pow2
from kernelpilot.load_order import issued_before
from kernelpilot.pdl import pdl_prologue
from kernelpilot.replay import planned


@triton.jit
def _norm(h, mask, w, bias, eps, D: tl.constexpr, IS_RMS: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr):
    if not IS_RMS:
        h = tl.where(mask, h - (tl.sum(h, axis=1) / D)[:, None], 0.0)
    n = h * tl.rsqrt(tl.sum(h * h, axis=1) / D + eps)[:, None]
    if HAS_W:
        n = n * w
    if HAS_B:
        n = n + bias
    return n


@triton.jit
def _row_operand(P, cols, col_ok, PRESENT: tl.constexpr):
    """A [D] operand as a [1, BLOCK_D] fp32 row; 0 when absent (the caller's constexpr skips its use)."""
    value = 0.0
    if PRESENT:
        value = tl.load(P + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    return value


@triton.jit
def _tanh(v):
    return 2.0 / (1.0 + tl.exp(-2.0 * v)) - 1.0  # saturates to +-1 without overflow trouble


@triton.jit(do_not_specialize=["n_rows", "seq_len", "eps"])
def _tanh_norm_kernel(Y, Y2, X, W, BIAS, SCALE, SHIFT, W2, BIAS2, SCALE2, n_rows, seq_len, eps, x_row_stride,
                      scale_b, scale_s, shift_b, shift_s, scale2_b, scale2_s,
                      D: tl.constexpr, BLOCK_D: tl.constexpr, ROWS: tl.constexpr, IS_RMS: tl.constexpr,
                      HAS_W: tl.constexpr, HAS_B: tl.constexpr, SECOND: tl.constexpr, HAS_W2: tl.constexpr,
                      HAS_B2: tl.constexpr, LOADS_FIRST: tl.constexpr, PDL: tl.constexpr):
    """LOADS_FIRST makes the first norm's statistics depend on every operand's load (`issued_before`), so that all
    of them go out before the reductions: one memory round trip a program instead of two."""
    pdl_prologue(PDL)
    rows = (tl.program_id(0) * ROWS + tl.arange(0, ROWS)).to(tl.int64)
    cols = tl.arange(0, BLOCK_D)
    col_ok = cols < D
    mask = (rows < n_rows)[:, None] & col_ok[None, :]
    b, s = rows // seq_len, rows % seq_len
    # Every operand is loaded before the row reductions, so that all the memory round trips overlap instead of
    # following one another (small cases are latency-bound).
    h = tl.load(X + rows[:, None] * x_row_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    scale = tl.load(SCALE + (b * scale_b + s * scale_s)[:, None] + cols[None, :], mask=mask, other=0.0)
    shift = tl.load(SHIFT + (b * shift_b + s * shift_s)[:, None] + cols[None, :], mask=mask, other=0.0)
    w = _row_operand(W, cols, col_ok, HAS_W)
    bias = _row_operand(BIAS, cols, col_ok, HAS_B)
    if SECOND:
        scale2 = tl.load(SCALE2 + (b * scale2_b + s * scale2_s)[:, None] + cols[None, :], mask=mask, other=0.0)
        w2 = _row_operand(W2, cols, col_ok, HAS_W2)
        bias2 = _row_operand(BIAS2, cols, col_ok, HAS_B2)
    if LOADS_FIRST:
        zero = n_rows >> 31  # n_rows is never negative
        h = issued_before(issued_before(h, scale.to(tl.float32), zero), shift.to(tl.float32), zero)
        if HAS_W:
            h = issued_before(h, w, zero)
        if HAS_B:
            h = issued_before(h, bias, zero)
        if SECOND:
            h = issued_before(h, scale2.to(tl.float32), zero)
            if HAS_W2:
                h = issued_before(h, w2, zero)
            if HAS_B2:
                h = issued_before(h, bias2, zero)
    n = _norm(h, mask, w, bias, eps, D, IS_RMS, HAS_W, HAS_B)
    n = n.to(Y.dtype.element_ty).to(tl.float32)  # the contract rounds the norm to x's dtype before modulating
    y = (n * _tanh(scale.to(tl.float32)) + shift.to(tl.float32)).to(Y.dtype.element_ty)
    out_at = rows[:, None] * D + cols[None, :]
    tl.store(Y + out_at, y, mask=mask)
    if SECOND:
        n2 = _norm(y.to(tl.float32), mask, w2, bias2, eps, D, IS_RMS, HAS_W2, HAS_B2)
        n2 = n2.to(Y.dtype.element_ty).to(tl.float32)
        tl.store(Y2 + out_at, (n2 * (1.0 + scale2.to(tl.float32))).to(Y2.dtype.element_ty), mask=mask)


@triton.jit
def _token_operand(P, row, seq_len, batch_stride, token_stride, cols, mask):
    """One token's row of a [1|B, 1|S, D] operand, in its own dtype."""
    return tl.load(P + (row // seq_len) * batch_stride + (row % seq_len) * token_stride + cols, mask=mask, other=0.0)


@triton.jit(do_not_specialize=["n_rows", "seq_len", "eps"])
def _tanh_norm_stream_kernel(Y, Y2, X, W, BIAS, SCALE, SHIFT, W2, BIAS2, SCALE2, n_rows, seq_len, eps, x_row_stride,
                             scale_b, scale_s, shift_b, shift_s, scale2_b, scale2_s,
                             D: tl.constexpr, BLOCK_D: tl.constexpr, ROWS: tl.constexpr, IS_RMS: tl.constexpr,
                             HAS_W: tl.constexpr, HAS_B: tl.constexpr, SECOND: tl.constexpr, HAS_W2: tl.constexpr,
                             HAS_B2: tl.constexpr, SCALE_SHARED: tl.constexpr, SHIFT_SHARED: tl.constexpr,
                             SCALE2_SHARED: tl.constexpr, PDL: tl.constexpr):
    """ROWS consecutive rows a program, one at a time. What every row shares is read and worked out once a program:
    the weights, and tanh(scale), shift and 1 + scale2 where all the program's rows take the same row of them
    (*_SHARED), which the one-row kernel works out again for every row (tanh's exponential and reciprocal, the
    16-bit unpacking: 800 instructions a thread on a zimage_tanh_norm2 row there, 437 in this loop). The next
    row's x (and per-token shift) is loaded, still 16-bit, before the current row is reduced, so a program keeps
    a row's bytes in flight while it computes."""
    pdl_prologue(PDL)
    cols = tl.arange(0, BLOCK_D)
    col_ok = cols < D
    here = col_ok[None, :]
    first = tl.program_id(0).to(tl.int64) * ROWS
    end = tl.minimum(first + ROWS, n_rows)
    w = _row_operand(W, cols, col_ok, HAS_W)
    bias = _row_operand(BIAS, cols, col_ok, HAS_B)
    if SCALE_SHARED:
        gain = _tanh(_token_operand(SCALE, first, seq_len, scale_b, scale_s, cols, col_ok).to(tl.float32))[None, :]
    if SHIFT_SHARED:
        shift = _token_operand(SHIFT, first, seq_len, shift_b, shift_s, cols, col_ok).to(tl.float32)[None, :]
    else:
        shift_next = _token_operand(SHIFT, first, seq_len, shift_b, shift_s, cols, col_ok)
    if SECOND:
        w2 = _row_operand(W2, cols, col_ok, HAS_W2)
        bias2 = _row_operand(BIAS2, cols, col_ok, HAS_B2)
        if SCALE2_SHARED:
            gain2 = 1.0 + _token_operand(SCALE2, first, seq_len, scale2_b, scale2_s, cols, col_ok).to(tl.float32)
    x_next = tl.load(X + first * x_row_stride + cols, mask=col_ok, other=0.0)
    for row in tl.range(first, end):
        h = x_next.to(tl.float32)[None, :]
        ahead = col_ok & (row + 1 < end)
        x_next = tl.load(X + (row + 1) * x_row_stride + cols, mask=ahead, other=0.0)
        if not SHIFT_SHARED:
            shift = shift_next.to(tl.float32)[None, :]
            shift_next = _token_operand(SHIFT, row + 1, seq_len, shift_b, shift_s, cols, ahead)
        if not SCALE_SHARED:
            gain = _tanh(_token_operand(SCALE, row, seq_len, scale_b, scale_s, cols, col_ok).to(tl.float32))[None, :]
        n = _norm(h, here, w, bias, eps, D, IS_RMS, HAS_W, HAS_B)
        n = n.to(Y.dtype.element_ty).to(tl.float32)  # the contract rounds the norm to x's dtype before modulating
        y = (n * gain + shift).to(Y.dtype.element_ty)
        out_at = row * D + cols[None, :]
        tl.store(Y + out_at, y, mask=here)
        if SECOND:
            if not SCALE2_SHARED:
                gain2 = 1.0 + _token_operand(SCALE2, row, seq_len, scale2_b, scale2_s, cols, col_ok).to(tl.float32)
            n2 = _norm(y.to(tl.float32), here, w2, bias2, eps, D, IS_RMS, HAS_W2, HAS_B2)
            n2 = n2.to(Y.dtype.element_ty).to(tl.float32)
            tl.store(Y2 + out_at, (n2 * gain2[None, :]).to(Y2.dtype.element_ty), mask=here)


def _row_strides(t, batch, seq_len, width):
    """(batch stride, token stride) of a [1|B, 1|S, D] operand, 0 along broadcast dims."""
    batch_stride, token_stride, column_stride = broadcast_strides(t, (batch, seq_len, width))
    if column_stride != 1:
        raise ValueError(f"modulation operand {tuple(t.shape)} is not contiguous in its last dim")
    return batch_stride, token_stride


def _shared_by_rows(batch_stride, token_stride, batch):
    """Whether every row of [B*S, D] takes the same row of an operand with these strides."""
    return token_stride == 0 and (batch_stride == 0 or batch == 1)


class TanhNorm:
    """The three entry points over one kernel, with a tile policy (n_rows, width, element size, SMs -> rows,
    warps): the rows a program holds at once, or with `stream` the rows it takes one after another;
    `register_cap` may cap a thread's registers by row width, so that more programs share an SM."""

    def __init__(self, tile_config, stream=False, register_cap=None, loads_first=False):
        self.tile_config = tile_config
        self.stream = stream
        self.register_cap = register_cap
        self.loads_first = loads_first  # the one-row kernel's switch; the stream kernel orders its own loads
        self.launch = CachedLauncher(_tanh_norm_stream_kernel if stream else _tanh_norm_kernel, pdl=True)

    def __call__(self, x, weight, bias, scale, shift, norm_type, eps, *second):
        """second: nothing, or weight2, bias2, scale2 for the y2 = norm(y) * (1 + scale2) variant (flat, so that
        kernelpilot.replay can key the call)."""
        if norm_type not in ("layer", "rms"):
            raise ValueError(f'norm_type must be "layer" or "rms", not {norm_type!r}')
        batch, seq_len, width = x.shape
        x_rows = x.reshape(-1, width) if x.stride(-1) == 1 else x.contiguous().view(-1, width)
        weight2, bias2, scale2 = second or (None, None, scale)
        y = torch.empty_like(x) if x.is_contiguous() else torch.empty((batch, seq_len, width), dtype=x.dtype,
                                                                        device=x.device)
        y2 = torch.empty_like(y) if second else y
        n_rows = batch * seq_len
        rows, warps = self.tile_config(n_rows, width, x.element_size(), multiprocessors(x))
        strides = (x_rows.stride(0), *_row_strides(scale, batch, seq_len, width),
                   *_row_strides(shift, batch, seq_len, width), *_row_strides(scale2, batch, seq_len, width))
        shared = tuple(_shared_by_rows(*strides[at:at + 2], batch) for at in (1, 3, 5)) if self.stream else ()
        # Triton specializes pointers on 16-byte alignment and dtype, ints on 1 and 16-divisibility: the strides
        # themselves, the dtypes and the alignment pin the binary.
        key = (x.dtype, scale.dtype, shift.dtype, scale2.dtype, weight is not None and weight.dtype,
               bias is not None and bias.dtype, weight2 is not None and weight2.dtype,
               bias2 is not None and bias2.dtype, width, rows, warps, norm_type, bool(second), strides, shared,
               aligned(y, y2, x_rows, weight, bias, scale, shift, weight2, bias2, scale2))
        self.launch(key, (ceil_div(n_rows, rows),),
                    (y, y2, x_rows, x_rows if weight is None else weight, x_rows if bias is None else bias, scale,
                     shift, x_rows if weight2 is None else weight2, x_rows if bias2 is None else bias2, scale2,
                     n_rows, seq_len, eps, *strides, width, next_pow2(width), rows,
                     norm_type == "rms", weight is not None, bias is not None, bool(second), weight2 is not None,
                     bias2 is not None, *(shared if self.stream else (self.loads_first,))),
                    num_warps=warps, maxnreg=self.register_cap(width) if self.register_cap else None)
        return (y, y2) if second else y


def entry_points(tile_config, stream=False, register_cap=None, loads_first=False):
    """The task's three ops over one TanhNorm with this tile policy, kernel, register cap (width -> a thread's
    registers for ptxas, or None) and load order (the one-row kernel's LOADS_FIRST), for a candidate to export."""
    norm = planned(TanhNorm(tile_config, stream, register_cap, loads_first))

    def fused_norm_tanh_mul_add(x, weight, bias, scale, shift, norm_type, eps=1e-5):
        return norm(x, weight, bias, scale, shift, norm_type, eps)

    def fused_norm_tanh_mul_add_norm_scale(x, weight, bias, scale, shift, weight2, bias2, scale2, norm_type,
                                           eps=1e-5):
        return norm(x, weight, bias, scale, shift, norm_type, eps, weight2, bias2, scale2)

    def rmsnorm_tanh_residual(x, gate, residual, weight, eps):
        return norm(x, weight, None, gate, residual, "rms", eps)

    return fused_norm_tanh_mul_add, fused_norm_tanh_mul_add_norm_scale, rmsnorm_tanh_residual
