"""R for the GroupNorm+SiLU task: the eager chain the VAE runs, `activation(norm(x))`.

Called on float64 copies of the inputs it is the oracle; called on the inputs as they are, it is the `torch_eager`
baseline (and `torch_compile` compiles it): PyTorch's group_norm accumulates in fp32 and rounds its output to x's
dtype, then SiLU rounds again.
"""

import torch.nn.functional as F


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return F.silu(F.group_norm(x, num_groups, weight, bias, eps))
