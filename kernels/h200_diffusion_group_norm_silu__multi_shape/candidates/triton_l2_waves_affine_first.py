"""triton_l2_waves with the one-program kernel (groups of up to 16K elements) gathering each element's weight and
bias together with x, before the group's reductions; larger groups take the same L2 waves.

Compiled for sm_90 (`kernelpilot task compile`), the one-program kernel on
hunyuan_vae_512x2x12x10_f16 writes 32 of its 34 global loads (the per-element weight and bias gathers) after the
reductions' first barrier: each program waits for x's memory round trip, reduces, then waits for a second one.
Issued with x's, the gathers' round trip overlaps it. That case is launch- and latency-bound (0.5 MB in all,
2.30 µs on the H200 against a 1.84 µs target)."""

from kernelpilot.replay import planned
from _group_norm import GroupNormSilu, WavePlan

PARENT = "triton_l2_waves"
MUTATION = "the weight and bias gathers of the one-program kernel issued with x's load, before the reductions"
EVIDENCE = [
    "task compile (sm_90) of triton_l2_waves and triton_fused_small on hunyuan_vae_512x2x12x10_f16: 32 of 34 "
    "global loads behind the first barrier",
    "H200 run 20261203T085316Z-95a41b: triton_fused_small 2.30 µs on hunyuan_vae_512x2x12x10_f16 against SGLang's "
    "2.76 and a 1.84 µs target",
]
SOURCE = "written for this task"

_group_norm = planned(GroupNormSilu(fused_max=16384, waves=WavePlan(), affine_first=True))


def triton_group_norm_silu(x, weight, bias, num_groups, eps=1e-5):
    return _group_norm(x, weight, bias, num_groups, eps)
