"""Library baselines: torch SDPA forced onto one back end each, so that neither falls back to another unseen.

SDPA's default scale is 1/sqrt(D) and its causal mask is top-left aligned, which is the task's contract; it takes
[B, H, S, D] as the task passes it. flash-attn's own wheels are not installed on the GPU machine, so they are no
baseline here.
"""

import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def sdpa_flash(q, k, v, causal=False):
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def sdpa_cudnn(q, k, v, causal=False):
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
