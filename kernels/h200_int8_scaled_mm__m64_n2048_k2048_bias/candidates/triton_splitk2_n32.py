"""Column tiles 32 wide, K split in two: 128 programs with triton_n32's a traffic (8 MiB from L2).

BLOCK_M 64 covers all of M; BLOCK_K 256; the last of each pair of programs adds the other's 8 KiB int32 partial (through L2) and runs the epilogue. See _int8_mm.py for the kernel.
"""

from _int8_mm import Int8ScaledMM

PARENT = "sglang_0_5_23_triton"
MUTATION = "BLOCK_M 64 x BLOCK_N 32 x BLOCK_K 256, split-K 2, 4 warps, 4 stages; fused scale/bias epilogue; cached launcher"
EVIDENCE = [
    "SGLang's triton_scaled_mm tiles M 64 as 64 x 64 x 256: 32 programs for N 2048, a quarter of the SMs",
    "bytes floor 1.13 us (4.60 MB at 4055 GB/s) against an empty kernel's 0.76 us (docs/harness-fidelity-h200.txt)",
]
SOURCE = "written for this task"

_mm = Int8ScaledMM(block_m=64, block_n=32, block_k=256, split_k=2, num_warps=4, num_stages=4)


def int8_scaled_mm(a, b, scale_a, scale_b, out_dtype, bias=None):
    return _mm(a, b, scale_a, scale_b, out_dtype, bias)
