"""Column tiles 32 wide, K whole: 64 programs, half of triton_n16's re-reads of a.

BLOCK_M 64 covers all of M; BLOCK_K 256; 64 programs stream 64 KiB panels of b each; a's L2 re-reads drop to 8 MiB, at the risk that 64 SMs cannot pull b at the DRAM rate. See _int8_mm.py for the kernel.
"""

from _int8_mm import Int8ScaledMM

PARENT = "sglang_0_5_23_triton"
MUTATION = "BLOCK_M 64 x BLOCK_N 32 x BLOCK_K 256, split-K 1, 4 warps, 4 stages; fused scale/bias epilogue; cached launcher"
EVIDENCE = [
    "SGLang's triton_scaled_mm tiles M 64 as 64 x 64 x 256: 32 programs for N 2048, a quarter of the SMs",
    "bytes floor 1.13 us (4.60 MB at 4055 GB/s) against an empty kernel's 0.76 us (docs/harness-fidelity-h200.txt)",
]
SOURCE = "written for this task"

_mm = Int8ScaledMM(block_m=64, block_n=32, block_k=256, split_k=1, num_warps=4, num_stages=4)


def int8_scaled_mm(a, b, scale_a, scale_b, out_dtype, bias=None):
    return _mm(a, b, scale_a, scale_b, out_dtype, bias)
