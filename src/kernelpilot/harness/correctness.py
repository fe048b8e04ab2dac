"""Checking one implementation on one case against the reference R (runs inside the worker process)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import torch

from kernelpilot.harness.inputs import clone_args, make_args, refill_args, upcast
from kernelpilot.harness.spec import Case, Op, Task, call_arguments

REFERENCE_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass
class Comparison:
    passed: bool
    rel_err: float | None = None
    max_abs: float | None = None
    allowed_rel: float | None = None
    baseline_rel_err: float | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def named_outputs(op: Op, call_values: dict[str, Any], returned: Any, used_out: bool) -> dict[str, torch.Tensor]:
    """What the op produced: mutated arguments for in-place ops, the out buffer when one was passed, else the return."""
    if op.inplace:
        return {name: call_values[name] for name in op.inplace}
    if used_out:
        return {"out": call_values[op.out_arg]}
    if isinstance(returned, (tuple, list)):
        return {f"out{i}": t for i, t in enumerate(returned)}
    return {"out": returned}


def reference_outputs(op: Op, reference: Callable, values: dict[str, Any]) -> dict[str, torch.Tensor]:
    args, kwargs = call_arguments(op, {k: v for k, v in values.items() if k != op.out_arg})
    returned = reference(*args, **kwargs)
    if op.inplace:
        returned = returned if isinstance(returned, (tuple, list)) else (returned,)
        return dict(zip(op.inplace, returned))
    return named_outputs(op, values, returned, used_out=False)


def relative_error(got: torch.Tensor, ref: torch.Tensor) -> tuple[float, float]:
    diff = got.to(ref.dtype) - ref
    denominator = torch.linalg.vector_norm(ref).item()
    rel = torch.linalg.vector_norm(diff).item() / (denominator if denominator > 0 else 1.0)
    return rel, diff.abs().max().item() if diff.numel() else 0.0


def compare(task: Task, op: Op, got: dict[str, torch.Tensor], ref: dict[str, torch.Tensor],
            eager: dict[str, torch.Tensor]) -> Comparison:
    """Every output against R; tolerance mode also bounds the error by the eager chain's own error."""
    worst = Comparison(passed=True, rel_err=0.0, max_abs=0.0)
    for name, expected in ref.items():
        produced = got.get(name)
        if not isinstance(produced, torch.Tensor):
            return Comparison(False, error=f"output {name!r} is missing or not a tensor")
        if tuple(produced.shape) != tuple(expected.shape):
            return Comparison(False, error=f"output {name!r} has shape {tuple(produced.shape)}, "
                                           f"expected {tuple(expected.shape)}")
        contract_dtype = eager[name].dtype
        if produced.dtype != contract_dtype:
            return Comparison(False, error=f"output {name!r} is {produced.dtype}, the contract says {contract_dtype}")
        if not torch.isfinite(produced).all() and torch.isfinite(expected).all():
            unwritten = torch.isnan(produced).sum().item()
            return Comparison(False, error=f"output {name!r} has {unwritten} NaN (unwritten or poisoned) and "
                                           f"{(~torch.isfinite(produced)).sum().item() - unwritten} Inf elements")
        if task.correctness_mode(op.name) == "bitexact":
            if not torch.equal(produced, eager[name]):
                rel, max_abs = relative_error(produced, expected)
                return Comparison(False, rel, max_abs, error=f"output {name!r} differs from the eager chain bit-wise")
            continue
        rel, max_abs = relative_error(produced, expected)
        eager_rel, _ = relative_error(eager[name], expected)
        bounds = task.bounds(str(contract_dtype).removeprefix("torch."))
        floor = 4 * torch.finfo(contract_dtype).eps if contract_dtype.is_floating_point else 0.0
        factor = task.correctness.get("baseline_factor", 2.0)
        allowed = min(bounds["rel"], max(factor * eager_rel, floor))
        result = Comparison(rel <= allowed and max_abs <= bounds["abs"], rel, max_abs, allowed, eager_rel)
        if not result.passed:
            result.error = (f"output {name!r}: rel err {rel:.3g} (allowed {allowed:.3g}), max abs {max_abs:.3g} "
                            f"(allowed {bounds['abs']:.3g})")
            return result
        if rel >= worst.rel_err:
            worst = result
    return worst


def poison_allocator(nbytes: int, device: torch.device) -> None:
    """Hand the caching allocator a NaN-filled block, so an output it reuses starts as NaN, not as stale data."""
    if device.type == "cuda" and nbytes:
        torch.empty(nbytes, dtype=torch.uint8, device=device).fill_(0xFF)


def out_buffer(values: dict[str, Any], ref: dict[str, torch.Tensor]) -> torch.Tensor:
    """An out= buffer shaped like the output, in the dtype of the first tensor argument, poisoned with NaN."""
    like = next(v for v in values.values() if isinstance(v, torch.Tensor))
    shape = next(iter(ref.values())).shape
    return torch.full(shape, float("nan"), dtype=like.dtype, device=like.device)


def synchronize_current_stream(device: torch.device) -> None:
    """Only the caller's stream: work a candidate hides on another stream is not waited for, and so is caught."""
    if device.type == "cuda":
        torch.cuda.current_stream(device).synchronize()


def call_once(op: Op, fn: Callable, values: dict[str, Any], ref: dict[str, torch.Tensor], use_out: bool,
              device: torch.device) -> dict[str, torch.Tensor]:
    call_values = clone_args(values) if op.inplace else dict(values)
    if use_out:
        call_values[op.out_arg] = out_buffer(values, ref)
    else:
        poison_allocator(sum(t.numel() * t.element_size() for t in ref.values()), device)
    args, kwargs = call_arguments(op, call_values)
    returned = fn(*args, **kwargs)
    synchronize_current_stream(device)
    produced = named_outputs(op, call_values, returned, used_out=use_out)
    # Snapshot now: anything still being written behind the caller's back must not count.
    return {name: t.clone() if isinstance(t, torch.Tensor) else t for name, t in produced.items()}


def accepts_argument(fn: Callable, name: str | None) -> bool:
    if not name:
        return False
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def check_case(task: Task, case: Case, fn: Callable, reference: Callable, device: torch.device,
               seed: int, trials: int) -> tuple[Comparison, list[int]]:
    """Several trials: fresh buffers, then the same buffers refilled, alternating out= and returned outputs."""
    op = task.ops[case.op]
    takes_out = accepts_argument(fn, op.out_arg)
    reference_dtype = REFERENCE_DTYPES[task.reference_dtype]
    seeds: list[int] = []
    worst = Comparison(True, 0.0, 0.0)
    values: dict[str, Any] | None = None
    for trial in range(trials):
        trial_seed = seed + 7919 * trial
        seeds.append(trial_seed)
        values = refill_args(case, values, trial_seed) if trial % 2 == 1 and values else make_args(case, trial_seed, device)
        ref = reference_outputs(op, reference, upcast(values, reference_dtype))
        eager = reference_outputs(op, reference, clone_args(values))
        use_out = takes_out and trial % 2 == 0
        try:
            got = call_once(op, fn, values, ref, use_out, device)
        except Exception as exc:  # the candidate's failure is a result, not the harness's
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return Comparison(False, error=f"raised {type(exc).__name__}: {message}"[:500]), seeds
        result = compare(task, op, got, ref, eager)
        if not result.passed:
            result.error = f"trial {trial} (seed {trial_seed}): {result.error}"
            return result, seeds
        if (result.rel_err or 0.0) >= (worst.rel_err or 0.0):
            worst = result
    return worst, seeds
