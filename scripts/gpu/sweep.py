"""Shared by the sweep scripts: one case of a task timed under several implementations or settings
(graph-replayed device time, inputs rotated as the harness does), each one's output checked against the task's
reference, printed as a short table."""

from __future__ import annotations

import sys
from typing import Any, Callable

import torch

from kernelpilot.harness import impls, timing
from kernelpilot.harness.benchcase import bound_call, tensor_bytes
from kernelpilot.harness.correctness import named_outputs, reference_outputs, relative_error
from kernelpilot.harness.inputs import clone_args, make_args, upcast
from kernelpilot.harness.spec import Case, Task


def candidate_module(task: Task, name: str) -> Any:
    """The candidate's loaded module, so a sweep can build variants of the objects it holds."""
    impls.resolve(task, name)
    return sys.modules[f"kernelpilot_task_{task.name}_cand_{name}"]


def time_settings(task: Task, case: Case, settings: list[tuple[str, Callable]]) -> list[tuple[float, str, float]]:
    """(device µs p50, label, relative error of the first output against the reference) per setting; a setting
    that raises is a row with an infinite time and the error as the label's suffix."""
    op = task.ops[case.op]
    reference = getattr(impls.reference_module(task), case.op)
    first = make_args(case, 7, "cuda")
    # Input sets counted by the harness's rule (on the inputs' bytes alone, so never fewer than it rotates): a case
    # smaller than the L2 is read from memory here too.
    l2_bytes = torch.cuda.get_device_properties(0).L2_cache_size
    count = timing.rotation_sets(tensor_bytes(first), tensor_bytes(first), l2_bytes)
    sets = [first] + [make_args(case, 7 + i, "cuda") for i in range(1, count)]
    pristine = clone_args(first) if op.inplace else first  # the timed calls rewrite an in-place op's sets
    expected = first_output(reference_outputs(op, reference, upcast(pristine, torch.float64)))
    results = []
    for label, fn in settings:
        try:
            checked = clone_args(pristine) if op.inplace else first
            got = first_output(named_outputs(op, checked, bound_call(op, fn, checked)(), used_out=False))
            error, _ = relative_error(got, expected)
            calls = [bound_call(op, fn, s) for s in sets] * max(1, 32 // len(sets))
            figure, _, _ = timing.graph_device_time(calls, reps=20)
            results.append((figure.p50, label, error))
        except Exception as exc:  # noqa: BLE001 - a failing setting is a row of the table, not the end of it
            results.append((float("inf"), f"{label} ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})", 0.0))
        torch.cuda.synchronize()
    del sets
    torch.cuda.empty_cache()
    return results


def print_launches(task: Task, case: Case, fn: Callable) -> None:
    """Each kernel one call launches, with its device time (torch's profiler), to see where a call's time goes."""
    from torch.profiler import ProfilerActivity, profile

    call = bound_call(task.ops[case.op], fn, make_args(case, 7, "cuda"))
    call()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as profiled:
        call()
        torch.cuda.synchronize()
    kernels = [event for event in profiled.events() if event.device_type == torch.autograd.DeviceType.CUDA]
    print("    launches: " + ", ".join(f"{event.name[:24]} {event.device_time:.2f}" for event in kernels))


def first_output(outputs: dict[str, torch.Tensor]) -> torch.Tensor:
    return next(iter(outputs.values()))


def print_table(case: Case, results: list[tuple[float, str, float]]) -> None:
    best = min(results)
    print(f"{case.id}: best {best[1]} {best[0]:.2f} us")
    for us, label, error in results:
        print(f"    {us:9.2f} us  rel err {error:.1e}  {label}")
    sys.stdout.flush()
