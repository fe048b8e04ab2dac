"""The kernel side of load ordering, for Triton kernels whose loads ptxas would otherwise issue too late.

ptxas schedules a row reduction's warp shuffles, which wait for the loaded row, ahead of loads whose values are
needed only after the reduction (the operands of a fused norm's epilogue), so a latency-bound program waits for
one memory round trip, reduces, then waits for another. A reduction whose input depends on those loads cannot
start before they are issued. This module imports Triton; exported kernels may import it (kda_kernels ships it).
"""

import triton
import triton.language as tl


@triton.jit
def issued_before(value, loaded, zero):
    """`value` (fp32), unchanged, but depending on `loaded`: its bits OR those of `loaded` masked by `zero`, a
    runtime 0 no compiler can fold (`n >> 31` of an int argument n that is never negative). One LOP3 an element;
    exact for every value, NaN and infinity included."""
    return (value.to(tl.int32, bitcast=True) | (loaded.to(tl.int32, bitcast=True) & zero)).to(tl.float32,
                                                                                                  bitcast=True)
