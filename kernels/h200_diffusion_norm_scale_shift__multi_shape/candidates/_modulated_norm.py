"""The row kernels for norm + scale/shift (optionally after residual + gate * x) and their lean wrapper, shared by
this task's candidates (not a candidate).

Each program of the row kernel holds ROWS rows of [B*S, D] at once; the stream kernel takes ROWS rows one after
another, loading the next row's x while it reduces the current one. Both read x (and the residual) once with
16-byte vectors, write y (and the new residual) once, and read the modulation rows they need. A modulation operand of any accepted shape is
described to the kernel by two row strides and a frame length: element (b, s, d) sits at
b * batch_stride + (s // frame_len) * frame_stride + d, or at 0 for a one-element operand.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div, multiprocessors, next_pow2
from kernelpilot.load_order import issued_before
from kernelpilot.norm_stats import shifted_moments
from kernelpilot.pdl import pdl_prologue
from kernelpilot.replay import planned


@triton.jit
def _operand(P, b, s, cols, mask, batch_stride, frame_stride, frame_len, SCALAR: tl.constexpr):
    # One return: Triton's compiler types every return statement of a function, even one a constexpr branch skips.
    if SCALAR:
        value = tl.load(P).to(tl.float32)
    else:
        rows = (b * batch_stride + (s // frame_len) * frame_stride)[:, None]
        value = tl.load(P + rows + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    return value


@triton.jit
def _normalized(h, mask, eps, D: tl.constexpr, IS_RMS: tl.constexpr):
    if not IS_RMS:
        h = tl.where(mask, h - (tl.sum(h, axis=1) / D)[:, None], 0.0)
    return h * tl.rsqrt(tl.sum(h * h, axis=1) / D + eps)[:, None]


@triton.jit
def _layer_normalized_once(h, mask, eps, pivot, D: tl.constexpr):
    """LayerNorm with the statistics of `shifted_moments` (h shifted by `pivot`, a value of each row): one round
    of shuffles and barriers where `_normalized` waits for two in a row."""
    shifted = tl.where(mask, h - pivot[:, None], 0.0)
    mean, variance = shifted_moments(shifted, D, 1)
    return tl.where(mask, shifted - mean[:, None], 0.0) * tl.rsqrt(variance + eps)[:, None]


@triton.jit
def _modulate(Y, n, scale, shift, mask, out_at):
    """y = n * (1 + scale) + shift, stored; the contract rounds the (affine) norm to x's dtype before modulating."""
    n = n.to(Y.dtype.element_ty).to(tl.float32)
    y = n * (1.0 + scale) + shift
    tl.store(Y + out_at, y.to(Y.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["n_rows", "seq_len", "scale_frame", "shift_frame", "gate_frame", "eps"])
def _modulated_norm_kernel(Y, R_OUT, RES, X, GATE, W, BIAS, SCALE, SHIFT, n_rows, seq_len, eps,
                           x_row_stride, res_row_stride,
                           scale_batch, scale_frame_stride, scale_frame,
                           shift_batch, shift_frame_stride, shift_frame,
                           gate_batch, gate_frame_stride, gate_frame,
                           D: tl.constexpr, BLOCK_D: tl.constexpr, ROWS: tl.constexpr, IS_RMS: tl.constexpr,
                           HAS_RES: tl.constexpr, HAS_GATE: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr,
                           SCALE_SCALAR: tl.constexpr, SHIFT_SCALAR: tl.constexpr, GATE_SCALAR: tl.constexpr,
                           LOADS_FIRST: tl.constexpr, ONE_REDUCTION: tl.constexpr, PDL: tl.constexpr):
    """LOADS_FIRST makes the row's statistics depend on every operand's load (`issued_before`), so that all of
    them go out before the reductions: one memory round trip a program instead of two. ONE_REDUCTION takes a
    LayerNorm's statistics in one reduction (`_layer_normalized_once`), shifted by the row's first element of x,
    or of the residual, which dominates the sum the norm reads: the shift need only be of the row's magnitude."""
    pdl_prologue(PDL)
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_D)
    col_ok = cols < D
    mask = (rows < n_rows)[:, None] & col_ok[None, :]
    rows64 = rows.to(tl.int64)
    b, s = rows64 // seq_len, rows64 % seq_len
    x_at = rows64[:, None] * x_row_stride + cols[None, :]
    out_at = rows64[:, None] * D + cols[None, :]
    h = tl.load(X + x_at, mask=mask, other=0.0).to(tl.float32)
    if ONE_REDUCTION and not IS_RMS:
        if HAS_RES:
            pivot = tl.load(RES + rows64 * res_row_stride, mask=rows < n_rows, other=0.0).to(tl.float32)
        else:
            pivot = tl.load(X + rows64 * x_row_stride, mask=rows < n_rows, other=0.0).to(tl.float32)
    # Every operand is loaded before the row reductions, so that all the memory round trips overlap instead of
    # following one another (small cases are latency-bound).
    scale = _operand(SCALE, b, s, cols, mask, scale_batch, scale_frame_stride, scale_frame, SCALE_SCALAR)
    shift = _operand(SHIFT, b, s, cols, mask, shift_batch, shift_frame_stride, shift_frame, SHIFT_SCALAR)
    if HAS_W:
        w = tl.load(W + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    if HAS_B:
        bias = tl.load(BIAS + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
    if HAS_RES:
        if HAS_GATE:
            h = h * _operand(GATE, b, s, cols, mask, gate_batch, gate_frame_stride, gate_frame, GATE_SCALAR)
        h = h + tl.load(RES + rows64[:, None] * res_row_stride + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        r = h.to(R_OUT.dtype.element_ty)
        tl.store(R_OUT + out_at, r, mask=mask)
        h = r.to(tl.float32)  # the norm reads the residual as stored
    if LOADS_FIRST:
        zero = n_rows >> 31  # n_rows is never negative
        h = issued_before(issued_before(h, scale, zero), shift, zero)
        if HAS_W:
            h = issued_before(h, w, zero)
        if HAS_B:
            h = issued_before(h, bias, zero)
    if ONE_REDUCTION and not IS_RMS:
        n = _layer_normalized_once(h, mask, eps, pivot, D)
    else:
        n = _normalized(h, mask, eps, D, IS_RMS)
    if HAS_W:
        n = n * w
    if HAS_B:
        n = n + bias
    _modulate(Y, n, scale, shift, mask, out_at)


@triton.jit(do_not_specialize=["n_rows", "seq_len", "scale_frame", "shift_frame", "gate_frame", "eps"])
def _modulated_norm_stream_kernel(Y, R_OUT, RES, X, GATE, W, BIAS, SCALE, SHIFT, n_rows, seq_len, eps,
                                  x_row_stride, res_row_stride,
                                  scale_batch, scale_frame_stride, scale_frame,
                                  shift_batch, shift_frame_stride, shift_frame,
                                  gate_batch, gate_frame_stride, gate_frame,
                                  D: tl.constexpr, BLOCK_D: tl.constexpr, ROWS: tl.constexpr, IS_RMS: tl.constexpr,
                                  HAS_RES: tl.constexpr, HAS_GATE: tl.constexpr, HAS_W: tl.constexpr,
                                  HAS_B: tl.constexpr, SCALE_SCALAR: tl.constexpr, SHIFT_SCALAR: tl.constexpr,
                                  GATE_SCALAR: tl.constexpr, PDL: tl.constexpr):
    """ROWS consecutive rows a program, one at a time: the next row's x (and residual) is loaded, still in its
    16-bit form, before the current row is reduced, so a program keeps a row's bytes in flight while it computes,
    where the one-row kernel's registers hold fp32 copies of every operand and nothing is in flight once they
    have arrived. The other operands are loaded after the reductions (L2 hits for those shared by all rows)."""
    pdl_prologue(PDL)
    cols = tl.arange(0, BLOCK_D)
    col_ok = cols < D
    here = col_ok[None, :]
    first = tl.program_id(0) * ROWS
    end = tl.minimum(first + ROWS, n_rows)
    x_next = tl.load(X + first.to(tl.int64) * x_row_stride + cols, mask=col_ok, other=0.0)
    if HAS_RES:
        res_next = tl.load(RES + first.to(tl.int64) * res_row_stride + cols, mask=col_ok, other=0.0)
    for row in tl.range(first, end):
        rows64 = tl.full((1,), row, tl.int64)
        h = x_next.to(tl.float32)[None, :]
        if HAS_RES:
            residual = res_next.to(tl.float32)[None, :]
        ahead = col_ok & (row + 1 < end)
        x_next = tl.load(X + (rows64 + 1) * x_row_stride + cols, mask=ahead, other=0.0)
        if HAS_RES:
            res_next = tl.load(RES + (rows64 + 1) * res_row_stride + cols, mask=ahead, other=0.0)
        b, s = rows64 // seq_len, rows64 % seq_len
        out_at = rows64[:, None] * D + cols[None, :]
        if HAS_RES:
            if HAS_GATE:
                h = h * _operand(GATE, b, s, cols, here, gate_batch, gate_frame_stride, gate_frame, GATE_SCALAR)
            r = (h + residual).to(R_OUT.dtype.element_ty)
            tl.store(R_OUT + out_at, r, mask=here)
            h = r.to(tl.float32)
        n = _normalized(h, here, eps, D, IS_RMS)
        if HAS_W:
            n = n * tl.load(W + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
        if HAS_B:
            n = n + tl.load(BIAS + cols, mask=col_ok, other=0.0).to(tl.float32)[None, :]
        _modulate(Y, n, _operand(SCALE, b, s, cols, here, scale_batch, scale_frame_stride, scale_frame, SCALE_SCALAR),
                  _operand(SHIFT, b, s, cols, here, shift_batch, shift_frame_stride, shift_frame, SHIFT_SCALAR),
                  here, out_at)


def modulation_layout(t, batch, seq_len, width):
    """(batch stride, frame stride, frame length, one element?) of a [1], [D], [1|B, D], [1|B, 1|S, D] or
    [B, F, 1, D] operand; None stands for an absent operand. Read from shape and strides, as `expand` would give
    them, without making views: three expands cost more host time than the whole launch."""
    if t is None:
        return 0, 0, 1, False
    if t.numel() == 1:
        return 0, 0, 1, True
    shape, strides = t.shape, t.stride()
    if strides[-1] != 1 or shape[-1] != width:
        raise ValueError(f"modulation operand {tuple(shape)} is not [..., {width}] contiguous in its last dim")
    if len(shape) == 4:
        if shape[0] != batch or seq_len % shape[1]:
            raise ValueError(f"per-frame operand {tuple(shape)} does not divide x's [{batch}, {seq_len}] rows")
        return strides[0], strides[1], seq_len // shape[1], False
    if len(shape) == 1:
        return 0, 0, 1, False
    if shape[0] not in (1, batch) or (len(shape) == 3 and shape[1] not in (1, seq_len)) or len(shape) > 3:
        raise ValueError(f"modulation operand {tuple(shape)} does not broadcast to [{batch}, {seq_len}, {width}]")
    seq_stride = strides[1] if len(shape) == 3 and shape[1] > 1 else 0
    return (strides[0] if shape[0] > 1 else 0), seq_stride, 1, False


class ModulatedNorm:
    """fused_norm_scale_shift and the residual variant over one kernel, with a tile policy (n_rows, width, element
    size, SMs -> rows, warps): the rows a program holds at once, or with `stream` the rows it takes one after
    another; `register_cap` may cap a thread's registers by row width, so that more programs share an SM."""

    def __init__(self, tile_config, stream, register_cap, loads_first=False, one_reduction=False):
        self.tile_config = tile_config
        self.register_cap = register_cap
        # the one-row kernel's switches; the stream kernel loads the modulation after the reductions by design
        self.stream, self.loads_first, self.one_reduction = stream, loads_first, one_reduction
        self.launch = CachedLauncher(_modulated_norm_stream_kernel if stream else _modulated_norm_kernel, pdl=True)

    def __call__(self, x, residual, gate, weight, bias, scale, shift, norm_type, eps):
        if norm_type not in ("layer", "rms"):
            raise ValueError(f'norm_type must be "layer" or "rms", not {norm_type!r}')
        batch, seq_len, width = x.shape
        x_rows = x.reshape(-1, width) if x.stride(-1) == 1 else x.contiguous().view(-1, width)
        res_rows = None if residual is None else residual.reshape(-1, width)
        y = torch.empty_like(x) if x.is_contiguous() else torch.empty((batch, seq_len, width), dtype=x.dtype,
                                                                        device=x.device)
        r_out = None if residual is None else torch.empty_like(y)
        scale_at, shift_at, gate_at = (modulation_layout(scale, batch, seq_len, width),
                                       modulation_layout(shift, batch, seq_len, width),
                                       modulation_layout(gate, batch, seq_len, width))
        n_rows = batch * seq_len
        rows, warps = self.tile_config(n_rows, width, x.element_size(), multiprocessors(x))
        row_strides = (x_rows.stride(0), 0 if res_rows is None else res_rows.stride(0))
        # Triton specializes pointers on 16-byte alignment and dtype, ints on 1 and 16-divisibility: the strides
        # and layouts themselves, the dtypes and the alignment pin the binary.
        key = (x.dtype, residual is not None and residual.dtype, gate is not None and gate.dtype,
               weight is not None and weight.dtype, bias is not None and bias.dtype, scale.dtype, shift.dtype, width,
               rows, warps, norm_type, row_strides, scale_at, shift_at, gate_at,
               aligned(y, r_out, res_rows, x_rows, gate, weight, bias, scale, shift))
        self.launch(key, (ceil_div(n_rows, rows),),
                    (y, y if r_out is None else r_out, x_rows if res_rows is None else res_rows, x_rows,
                     x_rows if gate is None else gate, x_rows if weight is None else weight,
                     x_rows if bias is None else bias, scale, shift, n_rows, seq_len, eps, *row_strides,
                     *scale_at[:3], *shift_at[:3], *gate_at[:3], width, next_pow2(width), rows,
                     norm_type == "rms", residual is not None, gate is not None, weight is not None, bias is not None,
                     scale_at[3], shift_at[3], gate_at[3], *self._kernel_flags(x)),
                    num_warps=warps, maxnreg=self.register_cap(width) if self.register_cap else None)
        return y if residual is None else (y, r_out)

    def _kernel_flags(self, x):
        """LOADS_FIRST and ONE_REDUCTION for the one-row kernel; one reduction for 16-bit rows only, whose rounding
        hides its error (in fp32 it is several times the two reductions', `kernelpilot.norm_stats`)."""
        return () if self.stream else (self.loads_first, self.one_reduction and x.element_size() == 2)


def entry_points(tile_config, stream=False, register_cap=None, loads_first=False, one_reduction=False):
    """The task's two ops over one ModulatedNorm with this tile policy, kernel, register cap (width -> a thread's
    registers for ptxas, or None), load order and LayerNorm reduction (the one-row kernel's LOADS_FIRST and
    ONE_REDUCTION), for a candidate to export."""
    norm = planned(ModulatedNorm(tile_config, stream, register_cap, loads_first, one_reduction))

    def fused_norm_scale_shift(x, weight, bias, scale, shift, norm_type, eps=1e-5):
        return norm(x, None, None, weight, bias, scale, shift, norm_type, eps)

    def fused_scale_residual_norm_scale_shift(residual, x, gate, weight, bias, scale, shift, norm_type, eps=1e-5):
        return norm(x, residual, gate, weight, bias, scale, shift, norm_type, eps)

    return fused_norm_scale_shift, fused_scale_residual_norm_scale_shift
