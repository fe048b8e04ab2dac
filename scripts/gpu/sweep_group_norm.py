"""L2-waves sweep for the group_norm_silu task: graph-replayed device time of the waves kernel under several plans
(programs per SM, warps, tile, unroll, L2 budget) on every case above the fused size, beside
the split path. Feeds the WavePlan that candidates/triton_l2_waves.py uses."""

import math
import sys
from pathlib import Path

from sweep import candidate_module, print_table, time_settings

from kernelpilot.harness import impls
from kernelpilot.harness.spec import load_task

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_group_norm_silu__multi_shape"
PLANS = [  # programs_per_sm, warps, tile, unroll, l2_budget MB
    (4, 4, 2048, 1, 24), (4, 4, 1024, 4, 24), (4, 4, 2048, 2, 24), (4, 4, 2048, 4, 24), (8, 4, 1024, 2, 24),
    (8, 4, 1024, 4, 24), (2, 8, 2048, 4, 24), (4, 8, 2048, 2, 24), (4, 4, 1024, 4, 32), (4, 4, 1024, 4, 40),
]


def main() -> int:
    task = load_task(TASK)
    helpers = candidate_module(task, "triton_l2_waves")
    split = impls.resolve(task, "triton_split").functions["triton_group_norm_silu"]
    settings = [("triton_split", split)]
    for pps, warps, tile, unroll, budget in PLANS:
        plan = helpers.WavePlan(pps, warps, tile, unroll, budget << 20)
        settings.append((f"waves pps={pps} w={warps} tile={tile}x{unroll} L2={budget}MB",
                         helpers.GroupNormSilu(fused_max=16384, waves=plan)))
    for case in task.cases:
        shape = case.args["x"]["shape"]
        group = shape[1] // case.args["num_groups"] * math.prod(shape[2:])
        if group > 16384:
            print_table(case, time_settings(task, case, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
