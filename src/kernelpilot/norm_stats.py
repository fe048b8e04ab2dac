"""The kernel side of a normalization's statistics taken in one reduction, for latency-bound Triton kernels.

A LayerNorm that reduces for the mean and then for the centered squares waits for two rounds of warp shuffles
and shared-memory barriers, one after the other. The moments of x shifted by a value of its own (an element of
the row or group, loaded with it) come from one round, and the shift keeps the variance's subtraction from
cancelling when the mean is large against the spread. Its error is still several times the two reductions':
for 16-bit outputs, whose rounding hides it, not fp32 ones (norm_infer's fp32 rows of 200: 6.4e-7 relative
against 7.8e-8, over the task's bound of 4.8e-7). This module imports Triton; exported kernels may import it
(kda_kernels ships it).
"""

import triton
import triton.language as tl


@triton.jit
def _add_pairs(sum_a, square_a, sum_b, square_b):
    return sum_a + sum_b, square_a + square_b


@triton.jit
def shifted_moments(shifted, count, AXIS: tl.constexpr):
    """(mean of `shifted`, variance) along AXIS, where `shifted` is x - k, zero where masked, over `count`
    elements: x's mean is k plus the first, and the second is x's biased variance."""
    total, squares = tl.reduce((shifted, shifted * shifted), AXIS, _add_pairs)
    mean = total / count
    return mean, tl.maximum(squares / count - mean * mean, 0.0)
