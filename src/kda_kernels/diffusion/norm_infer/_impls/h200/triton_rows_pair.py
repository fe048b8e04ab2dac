"""triton_rows_pdl with two wide rows per program: the first sweep (before strides were specialized) had 2 rows
ahead on 3072- and 5120-wide rows; this keeps that policy as its own candidate so the map decides per bucket."""

from kernelpilot.replay import planned
from ._norm_rows import RowNorm, wide_pair_tiles

PARENT = "triton_rows_pdl"
MUTATION = "two rows per program for rows wider than 256 elements (4 warps for bf16 at 16K+ rows, else 8), " \
           "launched with programmatic dependent launch"
EVIDENCE = ["H200 run 20261123T144933Z-b5ce15 (benchmarks/results.csv): the map gives it 4 of 13 buckets, among "
            "them Wan's 75600x5120 bf16 LayerNorm (the tile sizes came from scripts/gpu/sweep_norm_tiles.py, "
            "whose output was not kept)"]
SOURCE = "written for this task"


_norm = planned(RowNorm(wide_pair_tiles, pdl=True))


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    return _norm(x, weight, bias, eps, bool(is_rms_norm), out)


def triton_one_pass_rms_norm(x, w, eps=1e-6):
    return _norm(x, w, None, eps, True, None)
