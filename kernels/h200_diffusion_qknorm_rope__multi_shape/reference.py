"""R for the qknorm_rope task: the eager PyTorch chain, in place on q and k.

Called on float64 copies of the inputs it is the oracle; called on the inputs as they are, it is the `torch_eager`
baseline (and `torch_compile` compiles it). Per (token, head): RMSNorm in at least fp32 times the weight, then the
first rope_dim dims rotated by cos_sin_cache[positions] (cos in the first half of a cache row, sin in the second),
rounded once to q's dtype and written back into q and k.
"""

import torch


def _norm_rope(x, weight, cos, sin, is_neox, eps, rope_dim):
    h = x.to(torch.promote_types(x.dtype, torch.float32))
    h = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps) * weight.to(h.dtype)
    cos, sin = cos[:, None, :].to(h.dtype), sin[:, None, :].to(h.dtype)  # [tokens, 1, rope_dim / 2]
    rotary, rest = h[..., :rope_dim], h[..., rope_dim:]
    if is_neox:
        first, second = rotary.chunk(2, dim=-1)
        rotary = torch.cat((first * cos - second * sin, second * cos + first * sin), dim=-1)
    else:
        even, odd = rotary[..., 0::2], rotary[..., 1::2]
        rotary = torch.stack((even * cos - odd * sin, odd * cos + even * sin), dim=-1).flatten(-2)
    return torch.cat((rotary, rest), dim=-1).to(x.dtype)


def fused_inplace_qknorm_rope(q, k, q_weight, k_weight, cos_sin_cache, positions, *, is_neox, eps=1e-6, head_dim=0,
                              rope_dim=0):
    rope_dim = rope_dim or cos_sin_cache.shape[-1]
    cos_sin = cos_sin_cache[positions.long()]
    cos, sin = cos_sin[:, : rope_dim // 2], cos_sin[:, rope_dim // 2: rope_dim]
    q.copy_(_norm_rope(q, q_weight, cos, sin, is_neox, eps, rope_dim))
    k.copy_(_norm_rope(k, k_weight, cos, sin, is_neox, eps, rope_dim))
    return q, k
