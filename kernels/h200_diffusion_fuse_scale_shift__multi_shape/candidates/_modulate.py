"""Scale-shift and per-token select01 modulation kernels with lean wrappers, shared by this task's candidates.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, broadcast_strides, ceil_div, multiprocessors, next_pow2
from kernelpilot.load_order import issued_before
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


@triton.jit
def _chosen_operands(W, B, S0, H0, G0, S1, H1, G1, INDEX, index_at, mod, columns, mask, HAS_W: tl.constexpr,
                     HAS_B: tl.constexpr):
    """The token's weight, bias (1 and 0 where absent), and the scale, shift and gate rows of the set its index
    chooses, each read from one pointer picked by the index, so that none waits on a branch."""
    second = tl.load(INDEX + index_at) != 0
    w = 1.0
    if HAS_W:
        w = tl.load(W + columns, mask=mask, other=0.0).to(tl.float32)
    bias = 0.0
    if HAS_B:
        bias = tl.load(B + columns, mask=mask, other=0.0).to(tl.float32)
    scale = tl.load(tl.where(second, S1, S0) + mod, mask=mask, other=0.0).to(tl.float32)
    shift = tl.load(tl.where(second, H1, H0) + mod, mask=mask, other=0.0).to(tl.float32)
    gate = tl.load(tl.where(second, G1, G0) + mod, mask=mask, other=0.0)
    return w, bias, scale, shift, gate


@triton.jit(do_not_specialize=["tokens", "eps"])
def _select01_kernel(X, RES, RES_GATE, W, B, S0, H0, G0, S1, H1, G1, INDEX, Y, R_OUT, G_OUT, tokens, eps,
                     mod_sb, index_sb, C: tl.constexpr, BLOCK_C: tl.constexpr, RESIDUAL: tl.constexpr,
                     HAS_W: tl.constexpr, HAS_B: tl.constexpr, LOADS_FIRST: tl.constexpr, PDL: tl.constexpr):
    """LOADS_FIRST reads the chosen set's rows (and the weight and bias) before the row's reductions, and makes the
    statistics depend on them (`issued_before`), so that every load goes out at once; otherwise ptxas issues
    them after the reductions' first shuffles, which wait for x."""
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
    if LOADS_FIRST:
        w, bias, scale, shift, gate = _chosen_operands(
            W, B, S0, H0, G0, S1, H1, G1, INDEX, batch.to(tl.int64) * index_sb + (row - batch * tokens),
            batch.to(tl.int64) * mod_sb + columns, columns, mask, HAS_W, HAS_B)
        zero = tokens >> 31  # tokens is never negative
        x = issued_before(issued_before(issued_before(x, scale, zero), shift, zero), gate.to(tl.float32), zero)
        if HAS_W:
            x = issued_before(x, w, zero)
        if HAS_B:
            x = issued_before(x, bias, zero)
    centered = tl.where(mask, x - tl.sum(x, axis=0) / C, 0.0)
    normed = centered * tl.rsqrt(tl.sum(centered * centered, axis=0) / C + eps)
    if LOADS_FIRST:
        if HAS_W:
            normed = normed * w
        if HAS_B:
            normed = normed + bias
    else:
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
    """Both select01 ops (with and without the residual); `warps(channels)` picks the row program's width, and
    `loads_first` the kernel's load order."""

    def __init__(self, warps, loads_first=False):
        self.warps = warps
        self.loads_first = loads_first
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
                     weight is not None, bias is not None, self.loads_first),
                    num_warps=warps)
        return y, gate_out, residual_out


def select01_entry_points(select01):
    """The two select01 ops over one (planned) Select01, for a candidate to export."""
    def fuse_layernorm_scale_shift_gate_select01_kernel(x, weight, bias, scale0, shift0, gate0, scale1, shift1, gate1,
                                                        index, eps):
        y, gate, _ = select01(x, None, None, weight, bias, index, eps, scale0, shift0, gate0, scale1, shift1, gate1)
        return y, gate

    def fuse_residual_layernorm_scale_shift_gate_select01_kernel(x, residual, residual_gate, weight, bias, scale0,
                                                                 shift0, gate0, scale1, shift1, gate1, index, eps):
        y, gate, residual_out = select01(x, residual, residual_gate, weight, bias, index, eps,
                                         scale0, shift0, gate0, scale1, shift1, gate1)
        return y, residual_out, gate

    return fuse_layernorm_scale_shift_gate_select01_kernel, fuse_residual_layernorm_scale_shift_gate_select01_kernel
