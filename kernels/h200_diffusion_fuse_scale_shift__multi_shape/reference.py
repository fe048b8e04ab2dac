"""R for the scale-shift task: the eager chains.

Called on float64 copies of the inputs they are the oracle; called on the inputs as they are, the `torch_eager`
baseline (and `torch_compile` compiles them). Outputs are rounded to x's dtype, as the kernels return them.
"""

import torch
import torch.nn.functional as F


def _per_token(t, tokens):
    """[B, F, 1, C] per frame -> [B, L, C]; [B, C] -> [B, 1, C]; scalars and 3D views broadcast as they are."""
    if t.dim() == 4:
        return t.squeeze(2).repeat_interleave(tokens // t.shape[1], dim=1)
    return t.unsqueeze(1) if t.dim() == 2 else t


def fuse_scale_shift_kernel(x, scale, shift, scale_constant=1.0, block_l=128, block_c=128):
    tokens = x.shape[1]
    return (x * (scale_constant + _per_token(scale, tokens)) + _per_token(shift, tokens)).to(x.dtype)


def _modulate_select01(normed, x_dtype, scale0, shift0, gate0, scale1, shift1, gate1, index):
    pick = index.bool().unsqueeze(-1)  # [B, L, 1]: modulation set 1 where index is nonzero

    def select(first, second):
        return torch.where(pick, second.unsqueeze(1), first.unsqueeze(1))

    y = normed * (1 + select(scale0, scale1).to(normed.dtype)) + select(shift0, shift1).to(normed.dtype)
    return y.to(x_dtype), select(gate0, gate1).to(x_dtype)


def _layer_norm(h, weight, bias, eps):
    return F.layer_norm(h, h.shape[-1:], None if weight is None else weight.to(h.dtype),
                        None if bias is None else bias.to(h.dtype), eps)


def fuse_layernorm_scale_shift_gate_select01_kernel(x, weight, bias, scale0, shift0, gate0, scale1, shift1, gate1,
                                                    index, eps):
    h = x.to(torch.promote_types(x.dtype, torch.float32))
    return _modulate_select01(_layer_norm(h, weight, bias, eps), x.dtype, scale0, shift0, gate0, scale1, shift1,
                              gate1, index)


def fuse_residual_layernorm_scale_shift_gate_select01_kernel(x, residual, residual_gate, weight, bias, scale0, shift0,
                                                             gate0, scale1, shift1, gate1, index, eps):
    compute = torch.promote_types(x.dtype, torch.float32)
    r = residual.to(compute) + residual_gate.to(compute) * x.to(compute)  # normalized before rounding
    y, gate = _modulate_select01(_layer_norm(r, weight, bias, eps), x.dtype, scale0, shift0, gate0, scale1, shift1,
                                 gate1, index)
    return y, r.to(x.dtype), gate
