"""R for the norm_scale_shift task: the eager PyTorch chain.

Called on float64 copies of the inputs it is the oracle; called on the inputs as they are, it is the `torch_eager`
baseline (and `torch_compile` compiles it). Arithmetic in at least fp32; the new residual and the norm output are
rounded to x's dtype where the contract stores or rounds them, and y once at the end.
"""

import torch


def _compute_dtype(x):
    return torch.promote_types(x.dtype, torch.float32)


def _rows(t, x):
    """A modulation operand as something that broadcasts against x [B, S, D]: [1], [D], [1|B, D], [1|B, 1|S, D], or
    per frame [B, F, 1, D] (frame f covers S / F consecutive tokens)."""
    if t.dim() == 2:
        t = t[:, None, :]
    elif t.dim() == 4:
        t = t.repeat_interleave(x.shape[1] // t.shape[1], dim=1).flatten(1, 2)
    return t.to(_compute_dtype(x))


def _norm(h, weight, bias, norm_type, eps):
    if norm_type == "layer":
        h = h - h.mean(dim=-1, keepdim=True)
    n = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps)
    if weight is not None:
        n = n * weight.to(n.dtype)
    if bias is not None:
        n = n + bias.to(n.dtype)
    return n


def _modulate(x, h, weight, bias, scale, shift, norm_type, eps):
    n = _norm(h, weight, bias, norm_type, eps).to(x.dtype).to(h.dtype)
    return (n * (1 + _rows(scale, x)) + _rows(shift, x)).to(x.dtype)


def fused_norm_scale_shift(x, weight, bias, scale, shift, norm_type, eps=1e-5):
    return _modulate(x, x.to(_compute_dtype(x)), weight, bias, scale, shift, norm_type, eps)


def fused_scale_residual_norm_scale_shift(residual, x, gate, weight, bias, scale, shift, norm_type, eps=1e-5):
    h = x.to(_compute_dtype(x))
    if gate is not None:
        h = h * _rows(gate, x)
    r = (residual.to(h.dtype) + h).to(x.dtype)
    return _modulate(x, r.to(h.dtype), weight, bias, scale, shift, norm_type, eps), r
