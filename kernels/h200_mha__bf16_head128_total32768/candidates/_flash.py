"""Flash-attention forward kernels for Hopper and their launcher, shared by this task's candidates (not a candidate).

One program owns BLOCK_M queries of one (batch, head) and streams the keys and values past them in blocks of
BLOCK_N, keeping the softmax online in fp32: a running row maximum m and row sum l, with the accumulator rescaled
whenever m grows. Scores go through exp2 with 1/sqrt(D) * log2(e) folded into one multiplier. Blocks that need no
mask run in a loop of their own (for causal attention, every key block left of the diagonal), so the masking and
its compares are paid only on the diagonal or the ragged last block. Causal programs start from the longest rows
(the last query blocks), so the short ones fill in the tail of the grid.

Two ways to move the tiles: plain pointer loads (portable, and the Triton interpreter runs it) and tensor
descriptors (TMA on Hopper: one thread issues the whole tile copy, the async pipeline overlaps it with the matmuls).
The descriptor kernel views q, k, v and out as [B*H*S, D] rows, so it serves only contiguous tensors whose S is a
multiple of BLOCK_M (a tile never straddles two heads); other calls take the pointer kernel.
"""

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from kernelpilot.launch import ceil_div, interpreting

LOG2_E = 1.4426950408889634


@triton.jit
def _mask_scores(scores, queries, keys, seq_len, CAUSAL: tl.constexpr):
    visible = keys[None, :] < seq_len
    if CAUSAL:
        visible = visible & (keys[None, :] <= queries[:, None])
    return tl.where(visible, scores, float("-inf"))


@triton.jit
def _softmax_step(scores, m_i, l_i, qk_scale):
    """One key block's online-softmax update: its weights p, the rescale of what came before, the new m and l.
    No row is ever masked whole in its first block (each query sees the first key of its first block), so m stays
    finite and alpha never computes inf - inf."""
    m_new = tl.maximum(m_i, tl.max(scores, 1) * qk_scale)
    p = tl.math.exp2(scores * qk_scale - m_new[:, None])
    alpha = tl.math.exp2(m_i - m_new)
    return p, alpha, l_i * alpha + tl.sum(p, 1), m_new


@triton.jit
def _query_block(CAUSAL: tl.constexpr):
    if CAUSAL:  # the longest rows first
        return tl.num_programs(0) - 1 - tl.program_id(0)
    return tl.program_id(0)


@triton.jit
def _key_ranges(start_m, seq_len, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    """[0, unmasked_end) needs no mask; [unmasked_end, masked_end) does (the diagonal, or the ragged last block)."""
    if CAUSAL:
        return start_m * BLOCK_M, tl.minimum((start_m + 1) * BLOCK_M, seq_len)
    return (seq_len // BLOCK_N) * BLOCK_N, seq_len


@triton.jit
def _attention_pointers(Q, K, V, Out, heads, seq_len, qk_scale,
                        stride_qb, stride_qh, stride_qs, stride_kb, stride_kh, stride_ks,
                        stride_vb, stride_vh, stride_vs, stride_ob, stride_oh, stride_os,
                        HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr):
    start_m = _query_block(CAUSAL)
    batch, head = tl.program_id(1) // heads, tl.program_id(1) % heads
    queries = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    columns = tl.arange(0, HEAD_DIM)
    offsets_n = tl.arange(0, BLOCK_N)
    batch64, head64 = batch.to(tl.int64), head.to(tl.int64)  # B*H*S*D outgrows int32 at larger shapes
    q_rows = Q + batch64 * stride_qb + head64 * stride_qh + queries[:, None] * stride_qs + columns[None, :]
    k_rows = K + batch64 * stride_kb + head64 * stride_kh + offsets_n[:, None] * stride_ks + columns[None, :]
    v_rows = V + batch64 * stride_vb + head64 * stride_vh + offsets_n[:, None] * stride_vs + columns[None, :]
    q = tl.load(q_rows, mask=queries[:, None] < seq_len, other=0.0)

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    unmasked_end, masked_end = _key_ranges(start_m, seq_len, BLOCK_M, BLOCK_N, CAUSAL)
    for start_n in range(0, unmasked_end, BLOCK_N):
        k = tl.load(k_rows + start_n * stride_ks)
        p, alpha, l_i, m_i = _softmax_step(tl.dot(q, tl.trans(k)), m_i, l_i, qk_scale)
        v = tl.load(v_rows + start_n * stride_vs)
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
    for start_n in range(unmasked_end, masked_end, BLOCK_N):
        keys = start_n + offsets_n
        k = tl.load(k_rows + start_n * stride_ks, mask=keys[:, None] < seq_len, other=0.0)
        scores = _mask_scores(tl.dot(q, tl.trans(k)), queries, keys, seq_len, CAUSAL)
        p, alpha, l_i, m_i = _softmax_step(scores, m_i, l_i, qk_scale)
        v = tl.load(v_rows + start_n * stride_vs, mask=keys[:, None] < seq_len, other=0.0)
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])

    out_rows = Out + batch64 * stride_ob + head64 * stride_oh + queries[:, None] * stride_os + columns[None, :]
    tl.store(out_rows, (acc / l_i[:, None]).to(Out.dtype.element_ty), mask=queries[:, None] < seq_len)


@triton.jit
def _attention_descriptors(Q, K, V, Out, rows, seq_len, qk_scale,
                           HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                           CAUSAL: tl.constexpr):
    start_m = _query_block(CAUSAL)
    first_row = tl.program_id(1) * seq_len  # this (batch, head)'s first row of the [B*H*S, D] view
    desc_q = tl.make_tensor_descriptor(Q, [rows, HEAD_DIM], [HEAD_DIM, 1], [BLOCK_M, HEAD_DIM])
    desc_k = tl.make_tensor_descriptor(K, [rows, HEAD_DIM], [HEAD_DIM, 1], [BLOCK_N, HEAD_DIM])
    desc_v = tl.make_tensor_descriptor(V, [rows, HEAD_DIM], [HEAD_DIM, 1], [BLOCK_N, HEAD_DIM])
    desc_o = tl.make_tensor_descriptor(Out, [rows, HEAD_DIM], [HEAD_DIM, 1], [BLOCK_M, HEAD_DIM])
    queries = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offsets_n = tl.arange(0, BLOCK_N)
    q = desc_q.load([first_row + start_m * BLOCK_M, 0])

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    unmasked_end, masked_end = _key_ranges(start_m, seq_len, BLOCK_M, BLOCK_N, CAUSAL)
    for start_n in range(0, unmasked_end, BLOCK_N):
        k = desc_k.load([first_row + start_n, 0])
        p, alpha, l_i, m_i = _softmax_step(tl.dot(q, tl.trans(k)), m_i, l_i, qk_scale)
        v = desc_v.load([first_row + start_n, 0])
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
    for start_n in range(unmasked_end, masked_end, BLOCK_N):  # S % BLOCK_M == 0: no ragged block, only the diagonal
        k = desc_k.load([first_row + start_n, 0])
        scores = _mask_scores(tl.dot(q, tl.trans(k)), queries, start_n + offsets_n, seq_len, CAUSAL)
        p, alpha, l_i, m_i = _softmax_step(scores, m_i, l_i, qk_scale)
        v = desc_v.load([first_row + start_n, 0])
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])

    desc_o.store([first_row + start_m * BLOCK_M, 0], (acc / l_i[:, None]).to(Out.dtype.element_ty))


def _descriptor_scratch(size: int, alignment: int, stream):
    # Device-side tensor descriptors are written to global scratch that Triton asks the host to allocate per launch.
    return torch.empty(size, dtype=torch.int8, device="cuda")


@dataclass(frozen=True)
class FlashConfig:
    block_m: int
    block_n: int
    num_warps: int
    num_stages: int
    descriptors: bool  # tensor descriptors (TMA) where the call allows them, else pointer loads


class FlashAttention:
    def __init__(self, config: FlashConfig):
        self.config = config
        if config.descriptors and not interpreting():
            triton.set_allocator(_descriptor_scratch)

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False) -> torch.Tensor:
        batch, heads, seq_len, head_dim = q.shape
        if k.shape != q.shape or v.shape != q.shape or q.stride(-1) != 1 or k.stride(-1) != 1 or v.stride(-1) != 1:
            raise ValueError("q, k and v must share one [B, H, S, D] shape, each with unit stride along D")
        config = self.config
        out = torch.empty((batch, heads, seq_len, head_dim), dtype=q.dtype, device=q.device)
        grid = (ceil_div(seq_len, config.block_m), batch * heads)
        qk_scale = head_dim**-0.5 * LOG2_E
        options = dict(HEAD_DIM=head_dim, BLOCK_M=config.block_m, BLOCK_N=config.block_n, CAUSAL=bool(causal),
                       num_warps=config.num_warps, num_stages=config.num_stages)
        if self._takes_descriptors(q, k, v):
            _attention_descriptors[grid](q, k, v, out, batch * heads * seq_len, seq_len, qk_scale, **options)
        else:
            _attention_pointers[grid](q, k, v, out, heads, seq_len, qk_scale, *q.stride()[:3], *k.stride()[:3],
                                      *v.stride()[:3], *out.stride()[:3], **options)
        return out

    def _takes_descriptors(self, q, k, v) -> bool:
        return (self.config.descriptors and q.shape[2] % self.config.block_m == 0
                and all(t.is_contiguous() for t in (q, k, v)))
