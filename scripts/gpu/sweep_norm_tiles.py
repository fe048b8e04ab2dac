"""Tile sweep for the norm_infer task's triton_rows candidate: graph-replayed device time per (rows, warps).

Prints, per case, every configuration's device time and the best one; feeds the tile policies in candidates/_norm_rows.py.
"""

import importlib.util
import sys
from pathlib import Path

import torch

from kernelpilot.harness import timing
from kernelpilot.harness.benchcase import bound_call
from kernelpilot.harness.inputs import make_args
from kernelpilot.harness.spec import load_task
from kernelpilot.launch import multiprocessors

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"
CONFIGS = [(1, 4), (1, 8), (1, 16), (2, 4), (2, 8), (4, 4), (4, 8), (8, 4), (16, 4), (16, 8), (32, 4)]


def main() -> int:
    task = load_task(TASK)
    sys.path.insert(0, str(TASK / "candidates"))
    spec = importlib.util.spec_from_file_location("triton_rows", TASK / "candidates" / "triton_rows.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    chosen = module._norm.tile_config
    for case in task.cases:
        if case.interpret:
            continue
        op = task.ops[case.op]
        sets = [make_args(case, 7 + i, "cuda") for i in range(4 if case.args["x"]["shape"][0] > 100_000 else 16)]
        width = case.args["x"]["shape"][-1]
        n_rows = case.args["x"]["shape"][0]
        results = []
        for rows, warps in CONFIGS:
            if rows * triton_next_pow2(width) > 16384:
                continue
            module._norm.tile_config = lambda *_args, r=rows, w=warps: (r, w)
            calls = [bound_call(op, getattr(module, case.op), s) for s in sets] * max(1, 32 // len(sets))
            figure, _, _ = timing.graph_device_time(calls, reps=30)
            results.append((figure.p50, rows, warps))
        module._norm.tile_config = chosen
        default = chosen(n_rows, width, sets[0]["x"].element_size(), multiprocessors(sets[0]["x"]))
        best = min(results)
        line = "  ".join(f"{r}x{w}:{t:.2f}" for t, r, w in sorted(results, key=lambda x: (x[1], x[2])))
        print(f"{case.id}: best rows={best[1]} warps={best[2]} {best[0]:.2f} us; current {default}; {line}")
        torch.cuda.empty_cache()
    return 0


def triton_next_pow2(n: int) -> int:
    return 1 << (n - 1).bit_length()


if __name__ == "__main__":
    sys.exit(main())
