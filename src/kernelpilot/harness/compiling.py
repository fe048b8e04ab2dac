"""`task compile`: every Triton kernel a candidate launches on the small cases, compiled for the task's arch on the
CPU, with no GPU.

The interpreter runs a kernel's Python, not its compilation: a kernel can pass under the interpreter and still
fail to compile for the GPU (a constexpr branch the interpreter never takes, such as programmatic dependent
launch, which it lacks; a helper with two typed returns; a layout the backend rejects). Here the worker calls the
candidate exactly as the interpreter check does, with CPU tensors, but each launch is handed to Triton's compiler
for the task's arch (sm_90 for h200, sm_100 for b200) instead of being run: the specialization (dtypes, 16-byte
alignment, constexprs) comes from the real arguments, as on a GPU. Each compiled kernel's registers, spills and the
occupancy they allow are read from its cubin (`kernelpilot.harness.resources`).
"""

from __future__ import annotations

import subprocess
from typing import Any

COMPILED: list = []  # the kernels (CompiledKernel) compiled for the current case, in launch order


def compile_instead_of_launching(sm: str) -> None:
    """Patch, in this (worker) process only, Triton's JIT launch and our cached launcher so that a launch compiles
    the kernel for `sm` (e.g. "sm_90") and runs nothing."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, compile, make_backend
    from triton.runtime.jit import JITFunction, create_function_from_signature

    import kernelpilot.launch as launch_module
    from kernelpilot.launch import CachedLauncher

    target = GPUTarget("cuda", int(sm.removeprefix("sm_")), 32)
    backend = make_backend(target)
    binders: dict[Any, Any] = {}

    def compile_for_target(self, *args, grid, warmup, **kwargs):
        binder = binders.get(self)
        if binder is None:
            binder = binders[self] = create_function_from_signature(self.signature, self.params, backend)
        bound_args, specialization, options = binder(*args, **kwargs)
        options, signature, constexprs, attrs = self._pack_args(backend, kwargs, bound_args, specialization, options)
        compiled = compile(ASTSource(self, signature, constexprs, attrs), target=target, options=options.__dict__)
        COMPILED.append(compiled)
        return compiled

    def compile_every_call(self, key, grid, args, **options):
        args = args if self.pdl is None else (*args, self.pdl)
        compiled = self.jit_launch(grid, args, options)
        if launch_module.RECORDER is not None:  # the replay verdict below reads what was launched
            launch_module.RECORDER.append((compiled, grid, args))

    JITFunction.run = compile_for_target
    CachedLauncher.__call__ = compile_every_call


def compile_case(task, case, fn) -> dict:
    """Call the candidate on the case's inputs (CPU tensors); its launches compile instead of running. The call is
    recorded as kernelpilot.replay records it on a GPU, and `replay` says whether a plan could be made of it;
    `resources` holds each distinct compiled kernel's registers, spills and occupancy, in launch order."""
    from kernelpilot.harness import resources
    from kernelpilot.harness.benchcase import bound_call
    from kernelpilot.harness.inputs import zero_args
    from kernelpilot.replay.recipe import record_call, replay_verdict

    COMPILED.clear()
    values = zero_args(case, device="cpu")
    result, launches, watch = record_call(bound_call(task.ops[case.op], fn, values), ())
    distinct = list({compiled.hash: compiled for compiled in COMPILED}.values())
    outcome = {"passed": True, "kernels": sorted({compiled.metadata.name for compiled in distinct}), "error": None,
               "replay": replay_verdict(list(values.values()), launches, result, watch), "resources": []}
    try:
        outcome["resources"] = [resources.of_compiled(compiled).as_dict() for compiled in distinct]
    except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError) as exc:  # no (working) cuobjdump
        outcome["resources_error"] = describe_failure(exc)  # the kernels compiled: that verdict stands
    return outcome


def describe_failure(exc: BaseException) -> str:
    """One line: for Triton's compile errors (position, source excerpt with a caret, cause) the position, the
    offending source line and the cause; for anything else its type and first line."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    if type(exc).__name__ == "CompilationError" and len(lines) >= 3 and lines[-2].strip() == "^":
        return f"CompilationError at {lines[0].rstrip(':').removeprefix('at ')}: {lines[-1]} in `{lines[-3].strip()}`"
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:500]
