"""triton_rows launched with programmatic dependent launch: each program waits on the grid dependency (so the
previous kernel's writes are visible) and at once lets the next kernel start launching. A run of small norms then
overlaps each launch with the tail of the one before it, which is most of a small case's device time."""

from kernelpilot.replay import planned
from ._norm_rows import RowNorm, narrow_packed_tiles

PARENT = "triton_rows"
MUTATION = "launch with programmatic dependent launch (griddepcontrol.wait, then launch_dependents) on the same tiles"
EVIDENCE = [
    "H200 run 20261123T144933Z-b5ce15 (benchmarks/results.csv): triton_rows runs the small cases in 1.15-2.97 µs "
    "against an empty kernel's 0.73 µs (their target_us, 1.095, is 1.5x it), so most of their device time is "
    "launch latency and one memory round trip",
]
SOURCE = "written for this task"


_norm = planned(RowNorm(narrow_packed_tiles, pdl=True))


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    return _norm(x, weight, bias, eps, bool(is_rms_norm), out)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _norm(x, w, None, eps, True, None)
