"""Paths of the GroupNorm+SiLU wrapper that the workload's small cases do not reach, under the Triton interpreter on
the CPU: the wave pipeline over several waves (3 groups a wave, the last one ragged; the small cases all fit in one
wave), and batch-strided inputs read in place or copied. The interpreter is chosen when Triton is imported, so each
check runs in a fresh interpreter process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

CANDIDATES = Path(__file__).resolve().parents[1] / "candidates"
REFERENCE = """
import torch
from _group_norm import GroupNormSilu, WavePlan, items_contiguous

def error(y, x, weight, bias, groups):
    expected = torch.nn.functional.silu(torch.nn.functional.group_norm(x.double(), groups, weight.double(),
                                                                       bias.double(), 1e-6))
    assert torch.isfinite(y).all() and y.is_contiguous()
    return float((y.double() - expected).norm() / expected.norm())

generator = torch.Generator().manual_seed(3)
"""
SEVERAL_WAVES = REFERENCE + """
x = torch.randn(2, 16, 9, 130, generator=generator).to(torch.float16) + 3  # 2 x 4 groups of 4680 elements
weight = torch.rand(16, generator=generator).to(torch.float16) + 0.5
bias = torch.randn(16, generator=generator).to(torch.float16)
group_bytes = 4 * 9 * 130 * 2
norm = GroupNormSilu(fused_max=0, waves=WavePlan(block=512, warps=4, l2_budget=3 * group_bytes, slots=4))
assert norm.waves.groups_per_wave(8, group_bytes) == 3
print(error(norm(x, weight, bias, 4, 1e-6), x, weight, bias, 4))
"""
BATCH_STRIDED = REFERENCE + """
buffer = torch.randn(3, 24, 5, 7, generator=generator).to(torch.float16) + 2
weight = torch.rand(8, generator=generator).to(torch.float16) + 0.5
bias = torch.randn(8, generator=generator).to(torch.float16)
channel_slice, every_other_channel = buffer[:, 8:16], buffer[:, ::3]
assert items_contiguous(channel_slice) and items_contiguous(torch.empty_strided((2, 8, 1, 35), (600, 35, 3, 1)))
assert not items_contiguous(every_other_channel) and not items_contiguous(channel_slice.transpose(2, 3))
worst = 0.0
for one_reduction in (False, True):
    norm = GroupNormSilu(fused_max=16384, affine_first=True, batch_strided=True, one_reduction=one_reduction)
    for x in (channel_slice, every_other_channel, channel_slice.transpose(2, 3)):
        worst = max(worst, error(norm(x, weight, bias, 4, 1e-6), x, weight, bias, 4))
print(worst)
"""


def _relative_error(check: str) -> float:
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.pathsep.join([str(CANDIDATES), *sys.path])}
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return float(done.stdout.split()[-1])


def test_several_waves_match_torch():
    assert _relative_error(SEVERAL_WAVES) < 2e-3


def test_batch_strided_inputs_match_torch_read_in_place_or_copied():
    assert _relative_error(BATCH_STRIDED) < 2e-3
