"""L2-waves sweep for the group_norm_silu task: graph-replayed device time of the waves kernel under several plans
(programs per SM, warps, tile, L2 budget, pipelining) on every case above the fused size, beside SGLang's current
release and the split path. Feeds the WavePlan that candidates/triton_l2_waves.py uses."""

import math
import sys
from pathlib import Path

from sweep import candidate_module, print_table, time_settings

from kernelpilot.harness import impls
from kernelpilot.harness.spec import load_task

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_group_norm_silu__multi_shape"
PLANS = [  # programs_per_sm, warps, tile, l2_budget MB, pipeline
    (4, 4, 2048, 24, False), (2, 8, 4096, 24, False), (8, 4, 1024, 24, False), (4, 4, 4096, 24, False),
    (4, 8, 2048, 24, False), (4, 4, 2048, 12, False), (4, 4, 2048, 40, False), (4, 4, 2048, 24, True),
    (4, 4, 2048, 48, True), (2, 8, 4096, 48, True),
]


def main() -> int:
    task = load_task(TASK)
    helpers = candidate_module(task, "triton_l2_waves")
    split = impls.resolve(task, "triton_split").functions["triton_group_norm_silu"]
    sglang = impls.resolve(task, "sglang_0_5_23").functions["triton_group_norm_silu"]
    settings = [("sglang_0_5_23", sglang), ("triton_split", split)]
    for pps, warps, tile, budget, pipeline in PLANS:
        plan = helpers.WavePlan(pps, warps, tile, budget << 20, pipeline)
        settings.append((f"waves pps={pps} w={warps} tile={tile} L2={budget}MB pipe={int(pipeline)}",
                         helpers.GroupNormSilu(fused_max=16384, waves=plan)))
    for case in task.cases:
        shape = case.args["x"]["shape"]
        group = shape[1] // case.args["num_groups"] * math.prod(shape[2:])
        if group > 16384:
            print_table(case, time_settings(task, case, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
