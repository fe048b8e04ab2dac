"""triton_l2_waves_affine_first, with a batch-strided x (each batch item contiguous, the items further apart, as a
channel slice of a larger buffer is) read in place by the one-program kernel instead of copied first.

The copy is a second kernel on the device and keeps the call off the replayed host path, which refuses wrappers
that run torch ops (`kernelpilot.replay`): on edge_rank5_strided_2x64x3x4x5_f16 the parent took 3.69 µs of
device time (the contiguous edge cases of the same size take 0.85-0.94) and 24.69 µs of host time (5.8-6.0)."""

from kernelpilot.replay import planned
from _group_norm import GroupNormSilu, WavePlan

PARENT = "triton_l2_waves_affine_first"
MUTATION = "the one-program kernel reads a batch-strided x in place (batch stride as an argument) instead of a copy"
EVIDENCE = [
    "H200 run 20261203T085316Z-95a41b: triton_l2_waves 3.69 µs device and 24.69 µs host on "
    "edge_rank5_strided_2x64x3x4x5_f16 against 0.85-0.94 and 5.8-6.0 on the contiguous edge cases",
]
SOURCE = "written for this task"

_group_norm = planned(GroupNormSilu(fused_max=16384, waves=WavePlan(), affine_first=True, batch_strided=True))


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return _group_norm(x, weight, bias, num_groups, eps)
