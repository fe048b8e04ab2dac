"""The kernel side of programmatic dependent launch (PDL), for kernels that `CachedLauncher(kernel, pdl=True)`
launches: such a kernel takes a last parameter `PDL: tl.constexpr` and calls `pdl_prologue(PDL)` before its
first memory access. This module imports Triton; `kernelpilot.launch`, the host side, does not.
"""

import triton
import triton.language as tl
from triton.language.extra.cuda import gdc_launch_dependents, gdc_wait


@triton.jit
def pdl_prologue(PDL: tl.constexpr):
    """Under PDL, wait until the previous kernel's writes are visible, then let the next kernel start launching.
    The interpreter has no grid dependency control; the launcher passes PDL=False there."""
    if PDL:
        gdc_wait()
        gdc_launch_dependents()
