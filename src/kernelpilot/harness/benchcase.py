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


def case_cost(task: Task, case: Case, reference_module: Any, values: dict[str, Any],
              outputs: dict[str, Any]) -> tuple[int, float | None]:
    """The case's bytes moved and FLOPs, from the task's cost model, for one input set and R's outputs on it."""
    cost = task.data["cost"][case.op]
    flops = getattr(reference_module, cost["flops"])(**values) if cost.get("flops") else None
    return bytes_moved(values, outputs, cost["reads"], cost["writes"]), flops


def same_size_copies(task: Task, cases: list[Case], reference_module: Any, seed: int, l2_bytes: int) -> dict:
    """Each case's same-size copy figure (timing.same_size_copy), keyed by case id."""
    figures = {}
    for case in cases:
        values = make_args(case, seed, torch.device("cuda"))
        outputs = reference_outputs(task.ops[case.op], getattr(reference_module, case.op), clone_args(values))
        case_bytes, _ = case_cost(task, case, reference_module, values, outputs)
        del values, outputs
        figures[case.id] = timing.same_size_copy(case_bytes, l2_bytes).__dict__
        torch.cuda.empty_cache()
    return figures


def bench_case(task: Task, case: Case, fn: Callable, reference_module: Any, seed: int, l2_bytes: int) -> dict:
    op = task.ops[case.op]
    reference = getattr(reference_module, case.op)
    device = torch.device("cuda")
    first = make_args(case, seed, device)
    eager = reference_outputs(op, reference, clone_args(first))
    case_bytes, case_flops = case_cost(task, case, reference_module, first, eager)
    dobench_us = timing.dobench_median(bound_call(op, fn, clone_args(first) if op.inplace else first))

    calls_wanted = timing.calls_per_replay(dobench_us)
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
        "device": device_time.__dict__, "host": host.__dict__, "dobench_us": dobench_us, "bytes": case_bytes, "flops": case_flops,
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
