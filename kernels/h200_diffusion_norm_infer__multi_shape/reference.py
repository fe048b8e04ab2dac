"""R for the norm_infer task: the eager PyTorch chain.

Called on float64 copies of the inputs it is the oracle; called on the inputs as they are, it is the `torch_eager`
baseline (and `torch_compile` compiles it). Statistics in at least fp32, output rounded once to x's dtype.
"""

import torch


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.promote_types(x.dtype, torch.float32)


def norm_infer(x, weight, bias, eps, is_rms_norm=False):
    h = x.to(_compute_dtype(x))
    if not is_rms_norm:
        h = h - h.mean(dim=-1, keepdim=True)
    y = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps)
    if weight is not None:
        y = y * weight.to(y.dtype)
    if bias is not None:
        y = y + bias.to(y.dtype)
    return y.to(x.dtype)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    h = x.to(_compute_dtype(x))
    y = h * torch.rsqrt(h.square().mean(dim=-1, keepdim=True) + eps) * w.to(h.dtype)
    return y.to(x.dtype)
