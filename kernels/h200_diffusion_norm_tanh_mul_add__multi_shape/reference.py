"""R for the norm_tanh_mul_add task: the eager PyTorch chain.

Called on float64 copies of the inputs it is the oracle; called on the inputs as they are, it is the `torch_eager`
baseline (and `torch_compile` compiles it). Arithmetic in at least fp32; each norm output is rounded to x's dtype
before it is modulated, and each result once at the end.
"""

import torch


def _norm(x, weight, bias, norm_type, eps):
    """norm(x) * weight + bias in at least fp32, rounded to x's dtype and handed back in the compute dtype."""
    h = x.to(torch.promote_types(x.dtype, torch.float32))
    if norm_type == "layer":
        h = h - h.mean(dim=-1, keepdim=True)
    n = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps)
    if weight is not None:
        n = n * weight.to(n.dtype)
    if bias is not None:
        n = n + bias.to(n.dtype)
    return n.to(x.dtype).to(n.dtype)


def fused_norm_tanh_mul_add(x, weight, bias, scale, shift, norm_type, eps=1e-5):
    n = _norm(x, weight, bias, norm_type, eps)
    return (n * torch.tanh(scale.to(n.dtype)) + shift.to(n.dtype)).to(x.dtype)


def fused_norm_tanh_mul_add_norm_scale(x, weight, bias, scale, shift, weight2, bias2, scale2, norm_type, eps=1e-5):
    y = fused_norm_tanh_mul_add(x, weight, bias, scale, shift, norm_type, eps)
    n2 = _norm(y, weight2, bias2, norm_type, eps)
    return y, (n2 * (1 + scale2.to(n2.dtype))).to(x.dtype)


def rmsnorm_tanh_residual(x, gate, residual, weight, eps):
    return fused_norm_tanh_mul_add(x, weight, None, gate, residual, "rms", eps)
