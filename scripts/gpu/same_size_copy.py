"""Each missed case of the committed performance maps against a plain copy of its bytes: the same-size copy the
harness now measures in every run (timing.same_size_copy), here for the cases earlier runs left below target,
so that a target no kernel can meet is told apart from one still to be won. Output kept in
docs/same-size-copy-h200.txt.

    python scripts/gpu/same_size_copy.py [TASK-NAME-FRAGMENT ...]
"""

import sys
from pathlib import Path

import torch

from kernelpilot.fsutil import read_json
from kernelpilot.harness import environment, impls
from kernelpilot.harness.benchcase import same_size_copies
from kernelpilot.harness.spec import load_task

KERNELS = Path(__file__).resolve().parents[2] / "kernels"


def missed_cases(task) -> list[tuple[dict, float]]:
    """(map entry, winner's device µs) of each timed case that misses its device target."""
    perf_map = read_json(task.path("benchmarks", "performance-map.json"))
    return [(case, case["impls"][case["winner"]]["device_us"]) for op in perf_map["ops"].values()
            for case in op["cases"] if case["meets_target"] is False]


def main() -> int:
    print(environment.header(environment.collect(), "scripts/gpu/same_size_copy.py"))
    only = sys.argv[1:]
    l2_bytes = torch.cuda.get_device_properties(0).L2_cache_size
    for folder in sorted(KERNELS.glob("h200_*/benchmarks/performance-map.json")):
        task = load_task(folder.parents[1])
        if only and not any(fragment in task.name for fragment in only):
            continue
        missed = missed_cases(task)
        copies = same_size_copies(task, task.cases_for(ids=[case["case"] for case, _ in missed]),
                                  impls.reference_module(task), seed=0, l2_bytes=l2_bytes)
        print(f"## {task.name}: {len(missed)} missed case(s)")
        print(f"    {'case':44} {'target us':>10} {'ours us':>9} {'copy us':>9}  copy above target?")
        for case, ours_us in missed:
            copy_us = copies[case["case"]]["p50"]
            verdict = "yes: no kernel can meet it" if copy_us > case["target_us"] else "no"
            print(f"    {case['case']:44} {case['target_us']:10.2f} {ours_us:9.2f} {copy_us:9.2f}  {verdict}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
