"""Registers, spills, 128-bit access share and occupancy of every candidate's Triton kernels over the whole of W,
for each task named, compiled for the task's arch on the CPU (`kernelpilot task compile --all-cases`, its
resources table alone). The figures are the compiler's, so a CPU machine gives the same table as a GPU one.

    python scripts/kernel_resources.py kernels/h200_diffusion_norm_infer__multi_shape [more task folders]
"""

import sys

from rich.console import Console

from kernelpilot import machine
from kernelpilot.errors import KernelPilotError
from kernelpilot.harness import runner, views
from kernelpilot.harness.spec import load_task


def main(task_paths: list[str]) -> int:
    try:
        tasks = [load_task(path) for path in task_paths]
    except KernelPilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    console = Console(width=220, highlight=False, soft_wrap=False)
    console.print(machine.header("scripts/kernel_resources.py"))
    for task in tasks:
        outcome = runner.compile_candidates(task, case_ids=[case.id for case in task.cases])
        console.print(f"\n## {task.name}")
        views.resources_table(console, outcome)
        for name, result in outcome.results.items():
            if failure := runner.compile_failure(result):
                console.print(f"{name}: {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
