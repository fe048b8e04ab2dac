"""Flash-attention forward in Triton with pointer loads: 128 queries x 64 keys per step, 8 warps, 3 stages.

The portable member of the family (the Triton interpreter runs it in CI): online softmax in fp32 through exp2 with
the scale folded into log2(e), an unmasked loop over the key blocks left of the diagonal and a masked one for the
diagonal (causal) or the ragged last block, fp32 accumulation, bf16 output; causal programs start from the
longest rows. With 8 warps each of the two warp groups owns 64 query rows.
"""

from _flash import FlashAttention, FlashConfig

PARENT = "sdpa_flash"
MUTATION = "Triton flash-attention forward, pointer loads, BLOCK_M 128 / BLOCK_N 64, 8 warps, 3 stages"
EVIDENCE = ["issue 5: within 10% of the best SDPA back end's TFLOP/s with a kernel of ours"]
SOURCE = "written for this task"

attention = FlashAttention(FlashConfig(block_m=128, block_n=64, num_warps=8, num_stages=3, descriptors=False))
