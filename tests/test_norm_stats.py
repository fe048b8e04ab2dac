"""kernelpilot.norm_stats under the Triton interpreter: one reduction of rows whose mean is a thousand times their
spread gives fp32's own accuracy, where the same reduction unshifted loses the variance to cancellation."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

KERNEL = '''
import torch
import triton
import triton.language as tl

from kernelpilot.norm_stats import shifted_moments


@triton.jit
def moments(X, Mean, Var, SHIFT: tl.constexpr, N: tl.constexpr):
    rows = tl.arange(0, 4)
    x = tl.load(X + rows[:, None] * N + tl.arange(0, N)[None, :])
    pivot = tl.load(X + rows * N) if SHIFT else tl.zeros([4], tl.float32)
    mean, variance = shifted_moments(x - pivot[:, None], N, 1)
    tl.store(Mean + rows, pivot + mean)
    tl.store(Var + rows, variance)


x = (1000 + torch.randn(4, 256, generator=torch.Generator().manual_seed(5))).float()
for shift in (True, False):
    mean, var = torch.empty(4), torch.empty(4)
    moments[(1,)](x, mean, var, SHIFT=shift, N=256)
    exact = x.double()
    print(float(((mean - exact.mean(1)).abs() / exact.std(1)).max()),
          float(((var - exact.var(1, unbiased=False)).abs() / exact.var(1, unbiased=False)).max()))
'''


def test_shifted_moments_keep_the_variance_that_an_unshifted_reduction_loses():
    done = subprocess.run([sys.executable, "-c", KERNEL], env={**os.environ, "TRITON_INTERPRET": "1"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (shifted_mean, shifted_var), (_, unshifted_var) = (map(float, line.split()) for line in done.stdout.split("\n")[:2])
    assert shifted_mean < 1e-4 and shifted_var < 1e-4
    assert unshifted_var > 1e-2  # what the shift is for
