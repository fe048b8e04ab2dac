"""triton_split, but a group that fits in one program's registers (up to 16K elements) is normalized in a single
kernel that reads x once: for the small VAE tiles one launch and one read beat two launches and a re-read."""

from kernelpilot.replay import planned
from _group_norm import GroupNormSilu

PARENT = "triton_split"
MUTATION = "one program per (batch, group) with the whole group in registers when it has at most 16384 elements"
EVIDENCE = [
    "the smallest captured tiles ([1, 512, 2, 12, 10]: 3,840 elements per group) move 0.5 MB in all: launch-bound, "
    "so the second launch of the split path is half the device time",
]
SOURCE = "written for this task"

_group_norm = planned(GroupNormSilu(fused_max=16384))


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return _group_norm(x, weight, bias, num_groups, eps)
