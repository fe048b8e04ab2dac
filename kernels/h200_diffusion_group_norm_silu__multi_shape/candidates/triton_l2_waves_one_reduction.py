"""triton_l2_waves_batch_strided, with the one-program kernel's mean and variance taken in one reduction of the
pairs (x - k, (x - k)^2), k the group's first element, as the split path sums its chunks, instead of the mean's
reduction and then the centered squares': one round of shuffles and shared-memory barriers where the parent
waits for two in a row, on groups small enough to be latency-bound (hunyuan_vae_512x2x12x10_f16: 32 programs of
3,840 elements, 2.30 µs on the H200 against a 1.84 µs target). fp32 groups keep the two reductions, whose error is
several times smaller (`kernelpilot.norm_stats`)."""

from kernelpilot.replay import planned
from _group_norm import GroupNormSilu, WavePlan

PARENT = "triton_l2_waves_batch_strided"
MUTATION = "one-program kernel: one reduction of the pivot-shifted sums and squares instead of two in sequence"
EVIDENCE = [
    "H200 run 20261203T085316Z-95a41b: triton_fused_small 2.30 µs on hunyuan_vae_512x2x12x10_f16 against SGLang's "
    "2.76 and a 1.84 µs target; its kernel reduces twice in sequence (mean, then centered squares)",
]
SOURCE = "written for this task"

_group_norm = planned(GroupNormSilu(fused_max=16384, waves=WavePlan(), affine_first=True, batch_strided=True,
                                    one_reduction=True))


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return _group_norm(x, weight, bias, num_groups, eps)
