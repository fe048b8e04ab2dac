"""Rotary kernels and their lean wrappers, shared by this task's candidates (not a candidate).

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div, multiprocessors, next_pow2
from kernelpilot.pdl import pdl_prologue


@triton.jit
def _bf16_rne(value):
    # fp32 -> bf16 rounded to nearest even by hand: the GPU's conversion does this too, Triton's interpreter
    # truncates, and the LTX-2 contract is bit-exact.
    bits = value.to(tl.uint32, bitcast=True)
    bits = bits + 0x7FFF + ((bits >> 16) & 1)
    return (bits >> 16).to(tl.uint16).to(tl.bfloat16, bitcast=True)


@triton.jit(do_not_specialize=["n_rows", "heads", "tokens"])
def _rope_pairs_kernel(X, COS, SIN, Y, n_rows, heads, tokens, cos_stride, sin_stride, cos_step, sin_step,
                       HALF: tl.constexpr, BLOCK_HALF: tl.constexpr, ROWS: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < n_rows
    columns = tl.arange(0, 2 * BLOCK_HALF)
    mask = row_ok[:, None] & (columns < 2 * HALF)[None, :]
    offsets = rows.to(tl.int64)[:, None] * (2 * HALF) + columns[None, :]
    # Whole rows in 16-byte vectors, pairs separated in registers.
    x = tl.load(X + offsets, mask=mask, other=0.0).to(tl.float32)
    x1, x2 = tl.split(tl.reshape(x, (ROWS, BLOCK_HALF, 2)))
    pairs = tl.arange(0, BLOCK_HALF)
    pair_mask = row_ok[:, None] & (pairs < HALF)[None, :]
    token = ((rows // heads) % tokens).to(tl.int64)[:, None]
    # A step of 1 (the usual half-width cos) is specialized to a constant, so those loads stay 16-byte vectors.
    c = tl.load(COS + token * cos_stride + pairs[None, :] * cos_step, mask=pair_mask, other=0.0).to(tl.float32)
    s = tl.load(SIN + token * sin_stride + pairs[None, :] * sin_step, mask=pair_mask, other=0.0).to(tl.float32)
    y = tl.reshape(tl.join(x1 * c - x2 * s, x2 * c + x1 * s), (ROWS, 2 * BLOCK_HALF))
    tl.store(Y + offsets, y.to(Y.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["seq_len"])
def _ltx2_split_kernel(X, COS, SIN, Y, seq_len, heads, cos_sb, cos_sh, cos_st, sin_sb, sin_sh, sin_st,
                       HALF: tl.constexpr, BLOCK_HALF: tl.constexpr, HEADS_BLOCK: tl.constexpr, PDL: tl.constexpr):
    pdl_prologue(PDL)
    token_row = tl.program_id(0)
    batch = token_row // seq_len
    token = token_row - batch * seq_len
    head = tl.program_id(1) * HEADS_BLOCK + tl.arange(0, HEADS_BLOCK)
    j = tl.arange(0, BLOCK_HALF)
    mask = (head < heads)[:, None] & (j < HALF)[None, :]
    x_at = token_row.to(tl.int64) * heads * (2 * HALF) + head[:, None] * (2 * HALF) + j[None, :]
    x1 = tl.load(X + x_at, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(X + x_at + HALF, mask=mask, other=0.0).to(tl.float32)
    cos_at = batch.to(tl.int64) * cos_sb + token.to(tl.int64) * cos_st + head[:, None] * cos_sh + j[None, :]
    sin_at = batch.to(tl.int64) * sin_sb + token.to(tl.int64) * sin_st + head[:, None] * sin_sh + j[None, :]
    c = tl.load(COS + cos_at, mask=mask, other=0.0).to(tl.float32)
    s = tl.load(SIN + sin_at, mask=mask, other=0.0).to(tl.float32)
    # bf16 x bf16 products are exact in fp32, so each sum is rounded exactly where PyTorch rounds it.
    y1 = _bf16_rne(x1 * c).to(tl.float32) + (-x2 * s)
    y2 = _bf16_rne(x2 * c).to(tl.float32) + x1 * s
    tl.store(Y + x_at, _bf16_rne(y1), mask=mask)
    tl.store(Y + x_at + HALF, _bf16_rne(y2), mask=mask)



def _last_dim_unit(t):
    return t if t.stride(-1) == 1 else t.contiguous()


class RotaryPairs:
    """apply_rotary_embedding; `tile_rows(n_rows, width)` gives (rows per program, warps)."""

    def __init__(self, tile_rows):
        self.tile_rows = tile_rows
        self.launch = CachedLauncher(_rope_pairs_kernel, pdl=True)

    def __call__(self, x, cos, sin, interleaved):
        width = x.shape[-1]
        tokens, heads = x.shape[-3], x.shape[-2]
        # A full-width interleaved cos/sin repeats each value twice: every other element is read, in place.
        step = 2 if interleaved and cos.shape[-1] == width else 1
        cos_at = (cos.stride(0), step * cos.stride(-1))
        sin_at = (sin.stride(0), step * sin.stride(-1))
        if not x.is_contiguous():
            x = x.contiguous()
        y = torch.empty_like(x)
        n_rows = x.numel() // width if width else 0
        if n_rows == 0:
            return y
        rows, warps = self.tile_rows(n_rows, width)
        half = width // 2
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment; the strides themselves and
        # the alignment pin the binary.
        key = (x.dtype, cos.dtype, sin.dtype, half, rows, warps, cos_at, sin_at, aligned(x, y, cos, sin))
        self.launch(key, (ceil_div(n_rows, rows),),
                    (x, cos, sin, y, n_rows, heads, tokens, cos_at[0], sin_at[0], cos_at[1], sin_at[1], half,
                     next_pow2(half), rows),
                    num_warps=warps)
        return y


class Ltx2Split:
    """apply_ltx2_split_rotary_emb; `heads_per_program(tokens, heads, half, sms)` gives (heads per program, warps)."""

    def __init__(self, heads_per_program):
        self.heads_per_program = heads_per_program
        self.launch = CachedLauncher(_ltx2_split_kernel, pdl=True)

    def __call__(self, x, cos, sin):
        batch, seq_len, _ = x.shape
        heads, half = cos.shape[1], cos.shape[-1]
        cos, sin = _last_dim_unit(cos), _last_dim_unit(sin)
        if not x.is_contiguous():
            x = x.contiguous()
        y = torch.empty_like(x)
        if x.numel() == 0:
            return y
        heads_block, warps = self.heads_per_program(batch * seq_len, heads, half, multiprocessors(x))
        strides = (*cos.stride()[:3], *sin.stride()[:3])
        # Triton specializes integers on ==1 and %16 and pointers on 16-byte alignment; the strides themselves and
        # the alignment pin the binary.
        key = (x.dtype, cos.dtype, sin.dtype, half, heads_block, warps, heads % 16 == 0, heads == 1,
               aligned(x, y, cos, sin), strides)
        self.launch(key, (batch * seq_len, ceil_div(heads, heads_block)),
                    (x, cos, sin, y, seq_len, heads, *strides, half, next_pow2(half), heads_block),
                    num_warps=warps)
        return y
