"""Scale-shift and per-token select01 modulation kernels with lean wrappers, shared by this task's candidates.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, broadcast_strides, ceil_div, multiprocessors, next_pow2
from kernelpilot.pdl import pdl_prologue


@triton.jit
def _modulation_at(P, batch, token, columns, mask, sb, sl, sc, FRAME):
    # Row (batch, token // FRAME) of a [B, L|F|1, C] view given by strides (0 where broadcast).
    at = batch.to(tl.int64)[:, None] * sb + (token // FRAME).to(tl.int64)[:, None] * sl + columns[None, :] * sc
    return tl.load(P + at, mask=mask, other=0.0).to(tl.float32)


@triton.jit(do_not_specialize=["n_rows", "tokens", "scale_frame", "shift_frame", "scale_constant"])
def _scale_shift_kernel(X, SCALE, SHIFT, Y, n_rows, tokens, scale_frame, shift_frame, scale_constant,
                        scale_sb, scale_sl, scale_sc, shift_sb, shift_sl, shift_sc,
                        C: tl.constexpr, ROWS: tl.constexpr, BLOCK_C: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    columns = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    mask = (rows < n_rows)[:, None] & (columns < C)[None, :]
    batch = rows // tokens
    token = rows - batch * tokens
    at = rows.to(tl.int64)[:, None] * C + columns[None, :]
    x = tl.load(X + at, mask=mask, other=0.0).to(tl.float32)
    scale = _modulation_at(SCALE, batch, token, columns, mask, scale_sb, scale_sl, scale_sc, scale_frame)
    shift = _modulation_at(SHIFT, batch, token, columns, mask, shift_sb, shift_sl, shift_sc, shift_frame)
    tl.store(Y + at, (x * (scale_constant + scale) + shift).to(Y.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["tokens", "eps"])
def _select01_kernel(X, RES, RES_GATE, W, B, S0, H0, G0, S1, H1, G1, INDEX, Y, R_OUT, G_OUT, tokens, eps,
                     mod_sb, index_sb, C: tl.constexpr, BLOCK_C: tl.constexpr, RESIDUAL: tl.constexpr,
                     HAS_W: tl.constexpr, HAS_B: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    row = tl.program_id(0)
    batch = row // tokens
    columns = tl.arange(0, BLOCK_C)
    mask = columns < C
    at = row.to(tl.int64) * C + columns
    x = tl.load(X + at, mask=mask, other=0.0).to(tl.float32)
    if RESIDUAL:
        x = tl.load(RES + at, mask=mask, other=0.0).to(tl.float32) + \
            tl.load(RES_GATE + at, mask=mask, other=0.0).to(tl.float32) * x
        tl.store(R_OUT + at, x.to(R_OUT.dtype.element_ty), mask=mask)
    centered = tl.where(mask, x - tl.sum(x, axis=0) / C, 0.0)
    normed = centered * tl.rsqrt(tl.sum(centered * centered, axis=0) / C + eps)
    if HAS_W:
        normed = normed * tl.load(W + columns, mask=mask, other=0.0).to(tl.float32)
    if HAS_B:
        normed = normed + tl.load(B + columns, mask=mask, other=0.0).to(tl.float32)
    mod = batch.to(tl.int64) * mod_sb + columns
    # One uniform branch per token: only the chosen set's three rows are read.
    if tl.load(INDEX + batch.to(tl.int64) * index_sb + (row - batch * tokens)) != 0:
        scale = tl.load(S1 + mod, mask=mask, other=0.0).to(tl.float32)
        shift = tl.load(H1 + mod, mask=mask, other=0.0).to(tl.float32)
        gate = tl.load(G1 + mod, mask=mask, other=0.0)
    else:
        scale = tl.load(S0 + mod, mask=mask, other=0.0).to(tl.float32)
        shift = tl.load(H0 + mod, mask=mask, other=0.0).to(tl.float32)
        gate = tl.load(G0 + mod, mask=mask, other=0.0)
    tl.store(Y + at, (normed * (1.0 + scale) + shift).to(Y.dtype.element_ty), mask=mask)
    tl.store(G_OUT + at, gate.to(G_OUT.dtype.element_ty), mask=mask)



def _layout(t, batch, tokens, channels):
    """The (batch, token group, channel) strides of a modulation operand and its token-group size: per frame for
    [B, F, 1, C], all tokens for one row per batch. Read from shape and strides, as `expand` would give them: two
    views per operand cost more host time than the launch."""
    if t.numel() == 1:
        return (0, 0, 0), tokens
    if t.dim() == 4:
        batch_stride, frame_stride, _, channel_stride = broadcast_strides(t, (batch, t.shape[1], 1, channels))
        return (batch_stride, frame_stride, channel_stride), tokens // t.shape[1]
    if t.dim() == 2:
        batch_stride, channel_stride = broadcast_strides(t, (batch, channels))
        return (batch_stride, 0, channel_stride), tokens
    if t.dim() != 3 or t.shape[1] not in (1, tokens):
        raise ValueError(f"modulation operand {tuple(t.shape)} is not [1], [B, C], [B, 1|L, C] or [B, F, 1, C]")
    return broadcast_strides(t, (batch, t.shape[1], channels)), (tokens if t.shape[1] == 1 else 1)


class ScaleShift:
    """fuse_scale_shift_kernel; `tile(n_rows, channels, sms)` gives (rows per program, columns per program, warps)."""

    def __init__(self, tile):
        self.tile = tile
        self.launch = CachedLauncher(_scale_shift_kernel, pdl=True)

    def __call__(self, x, scale, shift, scale_constant):
        if not x.is_contiguous():
            x = x.contiguous()
        y = torch.empty_like(x)
        if x.numel() == 0:
            return y
        batch, tokens, channels = x.shape
        scale_strides, scale_frame = _layout(scale, batch, tokens, channels)
        shift_strides, shift_frame = _layout(shift, batch, tokens, channels)
        strides = (*scale_strides, *shift_strides)
        n_rows = batch * tokens
        rows, block_c, warps = self.tile(n_rows, channels, multiprocessors(x))
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment; the key pins them.
        key = (x.dtype, scale.dtype, shift.dtype, channels, rows, block_c, warps, aligned(x, y, scale, shift),
               tuple((s == 1) + 2 * (s % 16 == 0) for s in strides))
        self.launch(key, (ceil_div(n_rows, rows), ceil_div(channels, block_c)),
                    (x, scale, shift, y, n_rows, tokens, scale_frame, shift_frame, float(scale_constant),
                     *strides, channels, rows, block_c),
                    num_warps=warps)
        return y


class Select01:
    """Both select01 ops (with and without the residual); `warps(channels)` picks the row program's width."""

    def __init__(self, warps):
        self.warps = warps
        self.launch = CachedLauncher(_select01_kernel, pdl=True)

    def __call__(self, x, residual, residual_gate, weight, bias, index, eps, *sets):
        """sets: scale0, shift0, gate0, scale1, shift1, gate1 (flat, so that kernelpilot.replay can key the call)."""
        x = x.contiguous()
        batch, tokens, channels = x.shape
        sets = [s.contiguous() for s in sets]
        index = index.contiguous()
        y, gate_out = torch.empty_like(x), torch.empty_like(x)
        residual_out = None if residual is None else torch.empty_like(x)
        if x.numel() == 0:
            return y, gate_out, residual_out
        if residual is not None:
            residual, residual_gate = residual.contiguous(), residual_gate.contiguous()
        warps = self.warps(channels)
        key = (x.dtype, sets[0].dtype, sets[2].dtype, index.dtype, channels, warps, residual is not None,
               weight is not None, bias is not None, None if weight is None else weight.dtype,
               None if bias is None else bias.dtype, sets[0].stride(0) % 16 == 0, index.stride(0) % 16 == 0,
               aligned(x, y, gate_out, residual, residual_gate, residual_out, weight, bias, *sets))
        self.launch(key, (batch * tokens,),
                    (x, x if residual is None else residual, x if residual_gate is None else residual_gate,
                     x if weight is None else weight, x if bias is None else bias, *sets, index, y,
                     y if residual_out is None else residual_out, gate_out, tokens, eps, sets[0].stride(0),
                     index.stride(0), channels, next_pow2(channels), residual is not None,
                     weight is not None, bias is not None),
                    num_warps=warps)
        return y, gate_out, residual_out
