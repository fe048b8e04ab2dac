"""Timing one implementation on one case (inside the worker): the three figures plus a check of the timed output."""

from __future__ import annotations

from typing import Any, Callable

import torch

from kernelpilot.harness import timing
from kernelpilot.harness.correctness import REFERENCE_DTYPES, compare, named_outputs, reference_outputs
from kernelpilot.harness.inputs import bytes_moved, clone_args, make_args, upcast
from kernelpilot.harness.spec import Case, Op, Task, call_arguments


def bound_call(op: Op, fn: Callable, values: dict[str, Any]) -> Callable[[], Any]:
    args, kwargs = call_arguments(op, values)
    return lambda: fn(*args, **kwargs)


def tensor_bytes(values: dict[str, Any]) -> int:
    return sum(v.numel() * v.element_size() for v in values.values() if isinstance(v, torch.Tensor))


def bench_case(task: Task, case: Case, fn: Callable, reference: Callable, seed: int, l2_bytes: int) -> dict:
    op = task.ops[case.op]
    device = torch.device("cuda")
    first = make_args(case, seed, device)
    eager = reference_outputs(op, reference, clone_args(first))
    cost = task.data["cost"][case.op]
    case_bytes = bytes_moved(first, eager, cost["reads"], cost["writes"])
    dobench_us = timing.dobench_median(bound_call(op, fn, clone_args(first) if op.inplace else first))

    calls_wanted = int(min(256, max(4, 2000 / max(dobench_us, 0.5))))
    alloc_bytes = tensor_bytes(first) + tensor_bytes(eager)
    sets_count = timing.rotation_sets(case_bytes, alloc_bytes, l2_bytes, at_least=calls_wanted if op.inplace else 1)
    sets = [first] + [make_args(case, seed + i, device) for i in range(1, sets_count)]
    pristine = [clone_args(s) for s in sets] if op.inplace else None
    rounds = 1 if op.inplace else max(1, round(calls_wanted / sets_count))
    calls = [bound_call(op, fn, sets[i % sets_count]) for i in range(sets_count * rounds)]
    device_time, returned, graph = timing.graph_device_time(
        calls, reps=timing.repetitions(len(calls) * dobench_us))
    verdict = verify_timed_output(task, op, reference, graph, sets, pristine, returned)
    del graph, returned
    host = timing.host_cost(bound_call(op, fn, sets[0]), calls_per_rep=timing.host_calls_per_rep(dobench_us))
    return {
        "device": device_time.__dict__, "host": host.__dict__, "dobench_us": dobench_us, "bytes": case_bytes,
        "sets": sets_count, "calls_per_replay": len(calls), **verdict,
    }


def verify_timed_output(task: Task, op: Op, reference: Callable, graph: torch.cuda.CUDAGraph,
                        sets: list[dict], pristine: list[dict] | None, returned: list[Any]) -> dict:
    """The output a timed (graph-replayed) call produced must match R: caching or stale buffers cannot pass."""
    last = len(returned) - 1
    values = sets[last % len(sets)]
    if pristine is not None:  # in-place: restore every set, replay once, so each was applied exactly once
        for current, original in zip(sets, pristine):
            for name in op.inplace:
                current[name].copy_(original[name])
        graph.replay()
        torch.cuda.synchronize()
        got = {name: values[name].clone() for name in op.inplace}
        inputs = pristine[last % len(sets)]
    else:
        torch.cuda.synchronize()
        got = named_outputs(op, values, returned[last], used_out=False)
        inputs = values
    ref = reference_outputs(op, reference, upcast(inputs, REFERENCE_DTYPES[task.reference_dtype]))
    eager = reference_outputs(op, reference, clone_args(inputs))
    result = compare(task, op, got, ref, eager)
    return {"correct": result.passed, "rel_err": result.rel_err, "error": result.error}
