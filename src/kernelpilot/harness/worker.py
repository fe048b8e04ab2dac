"""The isolated process that runs one implementation's check or bench (`python -m kernelpilot.harness.worker`).

A crash, a hang or a corrupted CUDA context ends this process, never the harness. It reads one JSON request on
stdin and appends one JSON line per event to the request's `events` file, flushed as it goes, so the parent knows
which case was running when it died.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.interpreter import patch_interpreter
from kernelpilot.launch import interpreting


class CaseFailed(Exception):
    """A case failed after its result was logged; the process ends so the next case gets a clean context."""


class EventLog:
    def __init__(self, path: str):
        self.handle = open(path, "a", encoding="utf-8")

    def emit(self, kind: str, **fields: Any) -> None:
        self.handle.write(json.dumps({"type": kind, **fields}, default=str) + "\n")
        self.handle.flush()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]


def run_check(request: dict, log: EventLog) -> None:
    import torch

    from kernelpilot.harness import impls
    from kernelpilot.harness.correctness import check_case
    from kernelpilot.harness.spec import load_task

    task = load_task(request["task"])
    device = torch.device(request["device"])
    impl = impls.resolve(task, request["impl"])
    reference = impls.reference_module(task)
    log.emit("impl", info=impl.info, ops=sorted(impl.functions))
    for index, case in enumerate(task.cases_for(ids=request["cases"])):
        if case.op not in impl.functions:
            continue
        log.emit("start", case=case.id)
        result, seeds = check_case(task, case, impl.functions[case.op], getattr(reference, case.op), device, seed=request["seed"] + 100_003 * index, trials=request["trials"])
        log.emit("case", case=case.id, seeds=seeds, **result.as_dict())


def run_bench(request: dict, log: EventLog) -> None:
    import torch

    from kernelpilot.harness import impls
    from kernelpilot.harness.benchcase import bench_case
    from kernelpilot.harness.spec import load_task

    task = load_task(request["task"])
    impl = impls.resolve(task, request["impl"])
    reference = impls.reference_module(task)
    log.emit("impl", info=impl.info, ops=sorted(impl.functions))
    l2_bytes = torch.cuda.get_device_properties(0).L2_cache_size
    for index, case in enumerate(task.cases_for(ids=request["cases"])):
        if case.op not in impl.functions:
            continue
        log.emit("start", case=case.id)
        try:
            figures = bench_case(task, case, impl.functions[case.op], reference,
                                 seed=request["seed"] + 100_003 * index, l2_bytes=l2_bytes)
        except Exception as exc:  # the context may be spoiled (illegal address): the parent restarts us
            log.emit("case", case=case.id, correct=False, error=_first_line(exc), status="error")
            raise CaseFailed from exc
        log.emit("case", case=case.id, **figures)
        torch.cuda.empty_cache()


def run_compile(request: dict, log: EventLog) -> None:
    from kernelpilot.harness import impls
    from kernelpilot.harness.compiling import compile_case, compile_instead_of_launching, describe_failure
    from kernelpilot.harness.spec import load_task

    task = load_task(request["task"])
    compile_instead_of_launching(task.sm)
    impl = impls.resolve(task, request["impl"])
    log.emit("impl", info=impl.info, ops=sorted(impl.functions))
    for case in task.cases_for(ids=request["cases"]):
        if case.op not in impl.functions:
            continue
        log.emit("start", case=case.id)
        try:
            result = compile_case(task, case, impl.functions[case.op])
        except Exception as exc:  # a compile error is the candidate's failure on this case; the next case goes on
            result = {"passed": False, "kernels": [], "error": describe_failure(exc)}
        log.emit("case", case=case.id, **result)


def run_calibrate(request: dict, log: EventLog) -> None:
    import torch

    from kernelpilot.harness import environment, impls, timing
    from kernelpilot.harness.benchcase import same_size_copies
    from kernelpilot.harness.spec import load_task

    log.emit("start", case="calibrate")
    task = load_task(request["task"])
    matmul_tflops = {dtype: timing.matmul_ceiling_tflops(dtype) for dtype in task.flops_dtypes}
    copy_gbps, empty_us = timing.copy_ceiling_gbps(), timing.empty_kernel_us()
    try:  # a figure the report adds, not one the targets need: its failure is named, the run goes on
        copies, copies_error = same_size_copies(task, task.cases_for(ids=request["copy_cases"]), impls.reference_module(task),
                                                request["seed"], torch.cuda.get_device_properties(0).L2_cache_size), None
    except Exception as exc:  # noqa: BLE001
        copies, copies_error = {}, _first_line(exc)
    log.emit("calibrate", case="calibrate", copy_gbps=copy_gbps, empty_us=empty_us, matmul_tflops=matmul_tflops,
             same_size_copy=copies, same_size_copy_error=copies_error, env=environment.collect())


def _autograd_off():
    """Implementations run as a serving process runs them: SGLang's kernels take their fast path only with autograd
    off (`not torch.is_grad_enabled()`) and would otherwise fall back to eager PyTorch, unnoticed."""
    import torch

    return torch.no_grad()


STAGES: dict[str, Callable[[dict, EventLog], None]] = {
    "check": run_check, "bench": run_bench, "compile": run_compile, "calibrate": run_calibrate,
}


def main() -> int:
    request = json.loads(sys.stdin.read())
    log = EventLog(request["events"])
    if interpreting():
        patch_interpreter()
    try:
        with _autograd_off():
            STAGES[request["stage"]](request, log)
    except CaseFailed:
        from kernelpilot.harness.isolation import RESTART_EXIT_CODE

        return RESTART_EXIT_CODE
    except KernelPilotError as exc:
        log.emit("error", message=str(exc))
        return 2
    except Exception as exc:  # reported as the implementation's failure; the parent decides what it means
        log.emit("error", message=_first_line(exc))
        return 1
    log.emit("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
