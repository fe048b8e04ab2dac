"""R for the rotary task: the eager chains.

Called on float64 copies of the inputs they are the oracle; called on the inputs as they are, the `torch_eager`
baseline (and `torch_compile` compiles them). The standard rotation runs in fp32 (the kernel's contract) and
rounds once. The LTX-2 split rotation is LTX-2's own PyTorch sequence: x*cos rounded to x's dtype, then addcmul_
(fp32 inside, one rounding); that op is judged bit-exact against this chain.
"""

import torch


def apply_rotary_embedding(x, cos, sin, interleaved=False):
    if interleaved and cos.shape[-1] == x.shape[-1]:
        cos, sin = cos[..., ::2], sin[..., ::2]
    h = x.to(torch.promote_types(x.dtype, torch.float32))
    c = cos.to(h.dtype)[:, None, :]  # [S, 1, D/2]: the same row for every head and batch item
    s = sin.to(h.dtype)[:, None, :]
    x1, x2 = h[..., 0::2], h[..., 1::2]
    return torch.stack((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1).flatten(-2).to(x.dtype)


def apply_ltx2_split_rotary_emb(x, cos, sin):
    batch, tokens, _ = x.shape
    heads, half = cos.shape[1], cos.shape[-1]
    halves = x.reshape(batch, tokens, heads, 2, half).transpose(1, 2)  # [B, H, S, 2, D/2]
    out = halves * cos.unsqueeze(-2)
    out[..., 0:1, :].addcmul_(-sin.unsqueeze(-2), halves[..., 1:2, :])
    out[..., 1:2, :].addcmul_(sin.unsqueeze(-2), halves[..., 0:1, :])
    return out.transpose(1, 2).reshape(batch, tokens, -1)
