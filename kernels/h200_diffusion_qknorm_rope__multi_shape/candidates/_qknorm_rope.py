"""The QK-norm + RoPE row kernel and its lean wrapper, shared by this task's candidates (not a candidate).

One launch covers q and k: the first programs take q's rows, the rest k's, a row being one (token, head) of
head_dim elements. Each program loads a [ROWS, D] tile with 16-byte vectors, normalizes every row in fp32,
rotates the first R dims in registers (the tile is reshaped so that each rotation pair sits in one thread) and
stores it back in place: q and k are read once and written once.

Every kernel here runs under programmatic dependent launch (`CachedLauncher(..., pdl=True)` launches it and
its first statement is `pdl_prologue(PDL)`).
"""

import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher, aligned, ceil_div
from kernelpilot.pdl import pdl_prologue


@triton.jit
def _rotate(x, cos_sin, pos, R: tl.constexpr, ROWS: tl.constexpr, D: tl.constexpr, IS_NEOX: tl.constexpr):
    """x: the normalized [ROWS, D] tile in fp32. Interleaved: pairs (2i, 2i+1), i < R/2. NeoX: halves of the
    first R dims, (j, j + R/2). Dims past R pass through (cos 1, sin 0)."""
    if IS_NEOX:
        # [ROWS, D/R, 2, R/2] -> [ROWS, D/R, R/2, 2]: block 0 holds the rotated dims, the pair is the last axis.
        pairs = tl.permute(tl.reshape(x, [ROWS, D // R, 2, R // 2]), [0, 1, 3, 2])
        first, second = tl.split(pairs)
        block = tl.arange(0, D // R)[None, :, None]
        index = tl.arange(0, R // 2)[None, None, :]
        rotated = (block == 0) & (index >= 0)
        where = pos[:, None, None] * R + index
        cos = tl.load(cos_sin + where, mask=rotated, other=1.0)
        sin = tl.load(cos_sin + where + R // 2, mask=rotated, other=0.0)
        out = tl.join(first * cos - second * sin, second * cos + first * sin)
        return tl.reshape(tl.permute(out, [0, 1, 3, 2]), [ROWS, D])
    even, odd = tl.split(tl.reshape(x, [ROWS, D // 2, 2]))
    index = tl.arange(0, D // 2)[None, :]
    rotated = index < R // 2
    where = pos[:, None] * R + index
    cos = tl.load(cos_sin + where, mask=rotated, other=1.0)
    sin = tl.load(cos_sin + where + R // 2, mask=rotated, other=0.0)
    return tl.reshape(tl.join(even * cos - odd * sin, odd * cos + even * sin), [ROWS, D])


@triton.jit(do_not_specialize=["n_tokens", "q_heads", "k_heads", "q_programs", "eps"])
def _qknorm_rope_kernel(Q, K, QW, KW, COS_SIN, POS, n_tokens, q_heads, k_heads, q_programs,
                        q_token_stride, k_token_stride, head_stride, eps,
                        D: tl.constexpr, R: tl.constexpr, ROWS: tl.constexpr, IS_NEOX: tl.constexpr,
                        NO_BARRIER: tl.constexpr, PDL: tl.constexpr):
    """NO_BARRIER loads the positions first and the weight in the tile's own layout, one copy per row (L1 hits).
    Otherwise the [D] weight arrives in a layout of its own and reaches the tile through shared memory, behind a
    barrier that ptxas will not move loads across: the positions' load, issued after it, waits for the weight's
    round trip, and the cos/sin loads wait for the positions', three memory round trips one after another where
    two would do."""
    pdl_prologue(PDL)
    pid = tl.program_id(0)
    if pid < q_programs:
        X, W, heads, token_stride, first = Q, QW, q_heads, q_token_stride, pid * ROWS
    else:
        X, W, heads, token_stride, first = K, KW, k_heads, k_token_stride, (pid - q_programs) * ROWS
    rows = first + tl.arange(0, ROWS)
    row_ok = rows < n_tokens * heads
    token = rows // heads
    offsets = (token.to(tl.int64) * token_stride + (rows - token * heads) * head_stride)[:, None] \
        + tl.arange(0, D)[None, :]
    mask = row_ok[:, None]
    if NO_BARRIER:
        pos = tl.load(POS + token, mask=row_ok, other=0).to(tl.int64)
        x = tl.load(X + offsets, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(W + tl.zeros((ROWS, 1), tl.int32) + tl.arange(0, D)[None, :]).to(tl.float32)
    else:
        x = tl.load(X + offsets, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(W + tl.arange(0, D)).to(tl.float32)[None, :]
    y = x * tl.rsqrt(tl.sum(x * x, axis=1) / D + eps)[:, None] * w
    if not NO_BARRIER:
        pos = tl.load(POS + token, mask=row_ok, other=0).to(tl.int64)
    y = _rotate(y, COS_SIN, pos, R, ROWS, D, IS_NEOX)
    tl.store(X + offsets, y.to(X.dtype.element_ty), mask=mask)


class QKNormRope:
    """fused_inplace_qknorm_rope over one kernel, with a tile policy (rows per program, warps) and the kernel's
    load order (`no_barrier`)."""

    def __init__(self, tile_config, no_barrier=False):
        self.tile_config = tile_config
        self.no_barrier = no_barrier
        self.launch = CachedLauncher(_qknorm_rope_kernel, pdl=True)

    def __call__(self, q, k, q_weight, k_weight, cos_sin_cache, positions, is_neox, eps, head_dim, rope_dim):
        n_tokens, q_heads, width = q.shape
        k_heads = k.shape[1]
        head_dim = head_dim or width
        rope_dim = rope_dim or cos_sin_cache.shape[-1]
        rows, warps = self.tile_config(n_tokens * (q_heads + k_heads), head_dim)
        q_programs = ceil_div(n_tokens * q_heads, rows)
        programs = q_programs + ceil_div(n_tokens * k_heads, rows)
        q_stride, k_stride, head_stride = q.stride(0), k.stride(0), q.stride(1)
        # Triton specializes pointers on 16-byte alignment and ints on 1 and 16-divisibility; the key pins them.
        key = (q.dtype, q_weight.dtype, k_weight.dtype, cos_sin_cache.dtype, positions.dtype, head_dim, rope_dim,
               bool(is_neox), rows, warps,
               tuple((s == 1, s % 16 == 0) for s in (q_stride, k_stride, head_stride)),
               aligned(q, k, q_weight, k_weight, cos_sin_cache, positions))
        self.launch(key, (programs,),
                    (q, k, q_weight, k_weight, cos_sin_cache, positions, n_tokens, q_heads, k_heads, q_programs,
                     q_stride, k_stride, head_stride, eps, head_dim, rope_dim, rows, bool(is_neox),
                     self.no_barrier),
                    num_warps=warps)
