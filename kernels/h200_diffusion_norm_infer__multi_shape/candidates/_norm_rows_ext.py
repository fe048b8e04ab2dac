"""Builds (once per machine, cached by torch) and loads the `_norm_rows.cu` extension for Hopper."""

import os
from pathlib import Path

from torch.utils.cpp_extension import load

os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "9.0")
extension = load(name="kp_norm_rows", sources=[str(Path(__file__).with_name("_norm_rows.cu"))],
                 extra_cuda_cflags=["-O3", "-diag-suppress=3306"], extra_cflags=["-O3"], verbose=False)
