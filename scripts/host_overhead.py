"""The Python cost of each Triton candidate's wrapper, on the CPU, with its launches stubbed out.

A candidate's host cost on a GPU is this wrapper cost plus the compiled kernel's C launcher (about 4.4 µs on an H200
host with four pointer arguments, of which the driver's pointer checks take about 0.16 µs a pointer:
docs/host-cost-breakdown-h200.txt) plus its output allocations (1.7 µs each). This measures the first part without
a GPU, so a wrapper can be slimmed between GPU runs; it first times the host primitives wrappers are made of.
Only launches through kernelpilot.launch.CachedLauncher are stubbed. A candidate whose call raises on the CPU
(one that launches a kernel by other means needs a GPU) gets one row naming the error and no further cases; one
that returns without launching through CachedLauncher is reported as such. A folder that is not a task is a
one-line error, before anything is timed. Figures are medians of 5 rounds of 2000 calls, µs per call.

    python scripts/host_overhead.py kernels/h200_diffusion_norm_infer__multi_shape [more task folders]
"""

import sys
from collections.abc import Iterator

import torch
import triton

import kernelpilot.launch
from kernelpilot import machine
from kernelpilot.errors import KernelPilotError
from kernelpilot.harness import impls, timing
from kernelpilot.harness.benchcase import bound_call
from kernelpilot.harness.inputs import make_args
from kernelpilot.harness.spec import Task, load_task

LAUNCHES = []


def count_launch(self, key, grid, args, **options):
    LAUNCHES.append(key)


def per_call_us(call) -> float:
    return timing.host_cost(call, calls_per_rep=2000, reps=5, synchronize=lambda: None).p50


def primitives() -> None:
    """What the host arithmetic and views of a wrapper cost, next to the plain versions in kernelpilot.launch."""
    x, row = torch.empty(2, 5, 256), torch.empty(1, 1, 256)
    shape = (2, 5, 256)
    for name, call in [
        ("triton.cdiv", lambda: triton.cdiv(1320, 16)),
        ("kernelpilot.launch.ceil_div", lambda: kernelpilot.launch.ceil_div(1320, 16)),
        ("triton.next_power_of_2", lambda: triton.next_power_of_2(200)),
        ("kernelpilot.launch.next_pow2", lambda: kernelpilot.launch.next_pow2(200)),
        ("Tensor.expand(...).stride()", lambda: row.expand(*shape).stride()),
        ("kernelpilot.launch.broadcast_strides", lambda: kernelpilot.launch.broadcast_strides(row, shape)),
        ("torch.empty_like (CPU)", lambda: torch.empty_like(x)),
    ]:
        print(f"{'primitive':48s} {name:44s} {per_call_us(call):6.2f}")


def profile(task: Task) -> None:
    for name in task.candidate_names():
        for row in candidate_rows(task, name):
            print(f"{task.name:48s} {name:20s} {row}")


def candidate_rows(task: Task, name: str) -> Iterator[str]:
    """A row per small case with the wrapper's µs per call, or one row saying why the candidate has no figures."""
    try:
        impl = impls.resolve(task, name)
    except KernelPilotError as exc:
        yield f"not loadable here: {exc}"
        return
    for case in task.cases_for(interpret_only=True):
        if case.op not in impl.functions:
            continue
        LAUNCHES.clear()
        try:
            call = bound_call(task.ops[case.op], impl.functions[case.op], make_args(case, 0, "cpu"))
            call()
        except Exception as exc:  # the candidate's own code, e.g. a launch that needs the GPU this run lacks
            yield f"{case.id:44s} fails on the CPU: {one_line(exc)}"
            return
        if not LAUNCHES:
            yield f"{case.id:44s} launches outside CachedLauncher"
            continue
        yield f"{case.id:44s} {per_call_us(call):6.2f}"


def one_line(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python scripts/host_overhead.py TASK_FOLDER [TASK_FOLDER ...]", file=sys.stderr)
        return 2
    try:
        tasks = [load_task(task_dir) for task_dir in sys.argv[1:]]
    except KernelPilotError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(machine.header("scripts/host_overhead.py"))
    primitives()
    kernelpilot.launch.CachedLauncher.__call__ = count_launch
    for task in tasks:
        profile(task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
