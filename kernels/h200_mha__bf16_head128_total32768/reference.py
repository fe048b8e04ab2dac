"""R for the attention task: softmax attention computed in float32, one block of queries at a time.

The harness calls it on float32 copies of the inputs (the oracle) and on the bf16 inputs as they are (the bound a
candidate's error is judged against: the same float32 computation rounded once to bf16). Scores for all S x S pairs
of a 32768-token sequence would take 64 GiB in fp32, so queries go in blocks of about 2^28 scores per step (1 GiB,
a few of them alive at once), and a causal block only scores the keys its queries can see. Matmuls run in full fp32
under torch's default matmul precision (TF32 off).
"""

import torch

SCORES_PER_BLOCK = 1 << 28


def attention(q, k, v, causal=False):
    batch, heads, tokens, head_dim = q.shape
    k, v = k.float(), v.float()
    out = torch.empty(q.shape, dtype=torch.float32, device=q.device)
    rows = max(1, SCORES_PER_BLOCK // (batch * heads * tokens))
    for start in range(0, tokens, rows):
        stop = min(tokens, start + rows)
        visible = stop if causal else tokens
        scores = q[:, :, start:stop].float() @ k[:, :, :visible].transpose(-1, -2) * head_dim**-0.5
        if causal:
            query = torch.arange(start, stop, device=q.device)[:, None]
            scores.masked_fill_(torch.arange(visible, device=q.device)[None, :] > query, float("-inf"))
        out[:, :, start:stop] = torch.softmax(scores, dim=-1) @ v[:, :, :visible]
    return out.to(q.dtype)


def attention_flops(q, k, v, causal=False, **_):
    """FLOPs of the two matmuls, q k^T and p v, at 2*S*S*D each per head; causal counts exactly half (S^2/2 pairs,
    not S(S+1)/2), the convention FlashAttention's published TFLOP/s use, so the figures compare."""
    batch, heads, tokens, head_dim = q.shape
    full = 4 * batch * heads * tokens * tokens * head_dim
    return full // 2 if causal else full
