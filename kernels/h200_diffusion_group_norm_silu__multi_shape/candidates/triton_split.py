"""Split-reduction GroupNorm+SiLU: every group spread over enough programs to fill all SMs, in two launches.

SGLang runs one program per (batch, group) below 2^18 elements per group: 32 programs on 132 SMs for the VAE's
B = 1, G = 32, each streaming its group twice (about 5% of the copy ceiling on mid-size tiles). Above that it
launches three kernels (partials, finalize, apply). Here partial sums of chunks cover every group with at least
4 x 132 programs whatever the shape, and the apply pass combines its group's partials itself (a few KB from L2)
so the finalize launch disappears; launches go through a cached launcher.
"""

from kernelpilot.replay import planned
from _group_norm import GroupNormSilu

PARENT = "sglang_0_5_23"
MUTATION = "split every group across >= 4x132 programs at every size; apply pass re-reduces partials (no finalize launch); cached launcher"
EVIDENCE = [
    "issue 3: SGLang 0.5.12 runs GroupNorm+SiLU at a median 19% of the copy ceiling over the 48 captured shapes, "
    "about 5% on many mid-size VAE tiles (one program per group, 32 programs for B=1, G=32)",
    "sglang 0.5.23 group_norm_silu_triton.py is identical to 0.5.12's (BASELINES.md)",
]
SOURCE = "written for this task"

_group_norm = planned(GroupNormSilu(fused_max=0))


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return _group_norm(x, weight, bias, num_groups, eps)
