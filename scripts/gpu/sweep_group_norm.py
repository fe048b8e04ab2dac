"""L2-waves sweep for the group_norm_silu task: graph-replayed device time of the wave pipeline under several plans
(block, warps, L2 budget, eviction hints, role interleaving, SiLU form) on every case above the fused size, beside
the split path. Feeds the WavePlan that candidates/triton_l2_waves.py uses;
the sweeps behind it are in the task's benchmarks/l2-waves-sweeps-h200.txt."""

import math
import sys
from pathlib import Path

from sweep import candidate_module, print_launches, print_table, time_settings

from kernelpilot.harness import environment, impls
from kernelpilot.harness.spec import load_task

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_group_norm_silu__multi_shape"
LAST, FIRST = "evict_last", "evict_first"
PLANS = [  # block, warps, l2_budget MB, eviction hints (sum loads, apply loads, stores), interleave, fast SiLU
    (8192, 8, 32, ("", FIRST, FIRST), True, True), (4096, 4, 32, ("", FIRST, FIRST), True, True),
    (16384, 8, 32, ("", FIRST, FIRST), True, True), (8192, 8, 48, ("", FIRST, FIRST), True, True),
    (8192, 8, 40, ("", FIRST, FIRST), True, True), (8192, 16, 32, ("", FIRST, FIRST), True, True),
    (16384, 16, 32, ("", FIRST, FIRST), True, True), (8192, 8, 32, (LAST, FIRST, FIRST), True, True),
]


def main() -> int:
    print(environment.header(environment.collect(), "scripts/gpu/sweep_group_norm.py"))
    task = load_task(TASK)
    helpers = candidate_module(task, "triton_l2_waves")
    split = impls.resolve(task, "triton_split").functions["triton_group_norm_silu"]
    settings = [("triton_split", split)]
    for block, warps, budget, evictions, interleave, fast_silu in PLANS:
        plan = helpers.WavePlan(block, warps, budget << 20, evictions=evictions, interleave=interleave,
                                fast_silu=fast_silu)
        hints = "/".join(hint.removeprefix("evict_") or "-" for hint in evictions)
        settings.append((f"waves block={block} w={warps} L2={budget}MB hints={hints} interleave={int(interleave)} "
                         f"tanh={int(fast_silu)}",
                         helpers.GroupNormSilu(fused_max=16384, waves=plan)))
    for case in task.cases:
        shape = case.args["x"]["shape"]
        group = shape[1] // case.args["num_groups"] * math.prod(shape[2:])
        if group > 16384:
            print_table(case, time_settings(task, case, settings))
            print_launches(task, case, settings[1][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
