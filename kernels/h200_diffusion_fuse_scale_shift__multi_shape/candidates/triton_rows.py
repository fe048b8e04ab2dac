"""Scale-shift over ~4K-element row tiles and row-per-program select01, both through a cached launch path.

SGLang's fuse_scale_shift_kernel (0.5.12) tiles 128 tokens x 128 channels with 4 warps whatever the shape and
launches through the JIT (25-39 µs of host cost per call on the small Qwen/HunyuanVideo text cases); 0.5.23
widens the tile to whole 1024-channel rows. Here one kernel covers every broadcast form (scalar, [B, C], strided
3D views, per-frame 4D) through strides, computes in fp32 and rounds once, with 16-byte accesses pinned by the
launch key; the select01 kernels keep SGLang's one-row-per-program shape with a uniform branch on the index.
"""

from kernelpilot.launch import next_pow2
from kernelpilot.replay import planned

from _modulate import ScaleShift, Select01, select01_entry_points

PARENT = "sglang_0_5_23"
MUTATION = "one stride-driven kernel for all broadcast forms, 4K-element tiles (1K below 16 per SM), fp32 math " \
           "rounded once; cached launcher for all three ops"
EVIDENCE = [
    "issue 3: SGLang 0.5.12 scale-shift at a median 70% of the copy ceiling, 40% with the non-contiguous fp32 "
    "gate, 5-8 µs do_bench medians but 25-39 µs of host cost per call on the small cases",
]
SOURCE = "written for this task"


def tile(n_rows, channels, sms):
    """4K-element tiles once there are 16 of them per SM, else 1K-element ones: the H200 sweep
    (docs/small-tiles-sweep-h200.txt) ran [195, 3072] in 2.36 µs as 2 x 512 tiles against 3.81 µs as 4 x 1024."""
    block_c = min(1024, next_pow2(channels))
    elements = 4096 if n_rows * channels >= 16 * 4096 * sms else 1024
    block_c = min(block_c, elements // 2)
    return max(1, elements // block_c), block_c, 4


def select01_warps(channels):
    """A warp per 1K channels, up to 4: 4 warps ran [8424, 3072] in 41.3 µs against 46.2 µs with 8 (the sweep)."""
    return max(1, min(4, next_pow2(channels) // 1024))


_scale_shift = planned(ScaleShift(tile))


def fuse_scale_shift_kernel(x, scale, shift, scale_constant=1.0, block_l=128, block_c=128):
    return _scale_shift(x, scale, shift, scale_constant)


(fuse_layernorm_scale_shift_gate_select01_kernel,
 fuse_residual_layernorm_scale_shift_gate_select01_kernel) = select01_entry_points(planned(Select01(select01_warps)))
