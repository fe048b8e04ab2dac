"""Column tiles 16 wide, K whole: 128 programs on 132 SMs, one launch, no partial exchange.

BLOCK_M 64 covers all of M; BLOCK_K 256; every program streams a 32 KiB panel of b once; the price is a's 128 KiB re-read from L2 by all 128 programs (16 MiB of L2 traffic). See _int8_mm.py for the kernel.
"""

from _int8_mm import Int8ScaledMM

PARENT = "sglang_0_5_23_triton"
MUTATION = "BLOCK_M 64 x BLOCK_N 16 x BLOCK_K 256, split-K 1, 4 warps, 4 stages; fused scale/bias epilogue; cached launcher"
EVIDENCE = [
    "SGLang's triton_scaled_mm tiles M 64 as 64 x 64 x 256: 32 programs for N 2048, a quarter of the SMs",
    "bytes floor 1.13 us (4.60 MB at 4055 GB/s) against an empty kernel's 0.76 us (docs/harness-fidelity-h200.txt)",
]
SOURCE = "written for this task"

_mm = Int8ScaledMM(block_m=64, block_n=16, block_k=256, split_k=1, num_warps=4, num_stages=4)


def int8_scaled_mm(a, b, scale_a, scale_b, out_dtype, bias=None):
    return _mm(a, b, scale_a, scale_b, out_dtype, bias)
