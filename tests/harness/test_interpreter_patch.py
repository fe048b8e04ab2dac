"""The worker's interpreter patch: runtime loop bounds (NumPy 2.4), bf16 matmuls and bf16 rounding as on a GPU."""

import os
import subprocess
import sys

KERNELS = '''
import torch
import triton
import triton.language as tl

from kernelpilot.harness.interpreter import patch_interpreter


@triton.jit
def count_blocks(out, n, BLOCK: tl.constexpr):
    total = tl.zeros([1], tl.int32)
    for _ in range(0, n, BLOCK):
        total += 1
    tl.store(out + tl.arange(0, 1), total)


@triton.jit
def matmul_to_bf16(A, B, Out, N: tl.constexpr):
    tile = tl.arange(0, N)[:, None] * N + tl.arange(0, N)[None, :]
    product = tl.dot(tl.load(A + tile), tl.load(B + tile))
    tl.store(Out + tile, product.to(tl.bfloat16))


patch_interpreter()
blocks = torch.zeros(1, dtype=torch.int32)
count_blocks[(1,)](blocks, 200, BLOCK=64)
a, b = (torch.randn(16, 16, generator=torch.Generator().manual_seed(s)).bfloat16() for s in (1, 2))
out = torch.empty(16, 16, dtype=torch.bfloat16)
matmul_to_bf16[(1,)](a, b, out, N=16)
print(int(blocks), torch.equal(out, (a.float() @ b.float()).bfloat16()))
'''


def test_the_patched_interpreter_computes_as_the_gpu_does():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    run = subprocess.run([sys.executable, "-c", KERNELS], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["4", "True"]
