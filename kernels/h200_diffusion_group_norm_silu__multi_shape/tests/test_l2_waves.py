"""The wave pipeline of triton_l2_waves when a call takes several waves (3 groups a wave, the last one ragged),
under the Triton interpreter on the CPU: the workload's small cases all fit in one wave. The interpreter is chosen
when Triton is imported, so the check runs in a fresh interpreter process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

CANDIDATES = Path(__file__).resolve().parents[1] / "candidates"
CHECK = """
import torch
from _group_norm import GroupNormSilu, WavePlan

generator = torch.Generator().manual_seed(3)
x = torch.randn(2, 16, 9, 130, generator=generator).to(torch.float16) + 3  # 2 x 4 groups of 4680 elements
weight = torch.rand(16, generator=generator).to(torch.float16) + 0.5
bias = torch.randn(16, generator=generator).to(torch.float16)
group_bytes = 4 * 9 * 130 * 2
norm = GroupNormSilu(fused_max=0, waves=WavePlan(block=512, warps=4, l2_budget=3 * group_bytes, slots=4))
assert norm.waves.groups_per_wave(8, group_bytes) == 3
y = norm(x, weight, bias, 4, 1e-6)
expected = torch.nn.functional.silu(torch.nn.functional.group_norm(x.double(), 4, weight.double(), bias.double(),
                                                                   1e-6))
assert torch.isfinite(y).all()
print(float((y.double() - expected).norm() / expected.norm()))
"""


def test_several_waves_match_torch():
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.pathsep.join([str(CANDIDATES), *sys.path])}
    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 2e-3
