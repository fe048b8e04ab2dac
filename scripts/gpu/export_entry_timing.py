"""SGLang's own entry points on W, before and after kda_kernels.install(): per case, the host cost per call of
back-to-back calls (the harness's figure: 100 calls queue without waiting on the GPU, so this is what the entry
point costs the CPU, routing included, not its device time, which the task's performance map has) and the route the
installed call took.

    KERNELPILOT_WHEELS=DIR python scripts/gpu/export_entry_timing.py 0.5.23
"""

import sys
from pathlib import Path

import kda_kernels
from kernelpilot.harness import environment, sglang, timing
from kernelpilot.harness.inputs import make_args
from kernelpilot.harness.perfmap import geomean
from kernelpilot.harness.spec import call_arguments, load_task

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"
CALLS = 100


def per_call_us(function, positional, keywords) -> float:
    """Median over repetitions of back-to-back calls: the harness's host-cost figure."""
    return timing.host_cost(lambda: function(*positional, **keywords), calls_per_rep=CALLS).p50


def main(version: str) -> None:
    task = load_task(TASK)
    baseline = next(b for b in task.baselines.values() if b.kind == "sglang" and b.version == version)
    modules = {}
    for op, reference in baseline.functions.items():
        sglang.load_function(version, reference)
        modules[op] = sys.modules[reference.partition(":")[0][:-3].replace("/", ".")]
    print(environment.header(environment.collect(), f"scripts/gpu/export_entry_timing.py {version}"))
    print(f"sglang {version}: us per call, median of 7 repetitions of {CALLS} back-to-back calls")
    ratios = []
    for case in task.cases:
        positional, keywords = call_arguments(task.ops[case.op], make_args(case, 1, "cuda"))
        before = per_call_us(getattr(modules[case.op], case.op), positional, keywords)
        kda_kernels.install()
        after = per_call_us(getattr(modules[case.op], case.op), positional, keywords)
        routes = next(r["routes"] for r in kda_kernels.status()["functions"] if r["function"].endswith(f".{case.op}"))
        kda_kernels.uninstall()
        ratios.append(before / after)
        print(f"{case.id:44s} sglang {before:9.2f}  installed {after:9.2f}  x{before / after:5.2f}  {sorted(routes)}")
    print(f"geomean speedup of the entry point, all {len(ratios)} cases: x{geomean(ratios):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
