"""Resolving an implementation name (a candidate or a baseline) to one callable per op."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.spec import Baseline, Task, declared_constants

@dataclass
class Impl:
    name: str
    kind: str  # candidate | baseline
    functions: dict[str, Callable] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # provenance recorded with every result (version, file hash, ...)


def load_module(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise KernelPilotError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise KernelPilotError(f"{path}: import failed: {type(exc).__name__}: {exc}") from None
    return module


def reference_module(task: Task) -> ModuleType:
    return load_module(task.reference_path, f"kernelpilot_task_{task.name}_reference")


def _declared_constants(task: Task, name: str) -> tuple[dict, str | None, str | None]:
    """The candidate's top-level literal constants and docstring, read without running it (and a parse error)."""
    path = task.candidate_path(name)
    try:
        return declared_constants(path)
    except FileNotFoundError:
        raise KernelPilotError(f"{task.name}: no candidate named {name!r} (looked for {path})") from None


def candidate_lineage(task: Task, name: str) -> dict:
    """PARENT, MUTATION, MOTIVATION, EVIDENCE and SOURCE as the candidate module declares them (read, not run)."""
    found, docstring, problem = _declared_constants(task, name)
    evidence = found.get("EVIDENCE", [])
    return {
        "parent": found.get("PARENT"),
        "mutation": found.get("MUTATION"),
        "motivation": problem or found.get("MOTIVATION") or docstring,
        "evidence": [evidence] if isinstance(evidence, str) else list(evidence),
        "source": found.get("SOURCE"),
    }


def requires_cuda(task: Task, name: str) -> bool:
    """A candidate that declares REQUIRES_CUDA = True (a CUDA extension) cannot run under the Triton interpreter."""
    return name in task.candidate_names() and bool(_declared_constants(task, name)[0].get("REQUIRES_CUDA"))


def implementation_names(task: Task) -> list[str]:
    return list(task.baselines) + task.candidate_names()


def resolve(task: Task, name: str) -> Impl:
    """Load the implementation's callables. Raises KernelPilotError (one line) when it cannot be built here."""
    if name in task.baselines:
        return _baseline(task, name)
    if name in task.candidate_names():
        # Candidates may share helper modules (`_name.py`) kept beside them; a twin's own helpers come first.
        for folder in reversed(task.candidate_folders):
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        path = task.candidate_path(name)
        module = load_module(path, f"kernelpilot_task_{task.name}_cand_{name}")
        functions = {op: getattr(module, op) for op in task.ops if callable(getattr(module, op, None))}
        if not functions:
            raise KernelPilotError(f"candidate {name} defines none of the task's ops ({', '.join(task.ops)})")
        return Impl(name, "candidate", functions, {"file": os.path.relpath(path, task.root)})
    raise KernelPilotError(f"{task.name}: no candidate or baseline named {name!r}")


def _baseline(task: Task, name: str) -> Impl:
    baseline = task.baselines[name]
    if baseline.kind == "sglang":
        from kernelpilot.harness.sglang import load_function

        functions, info = {}, {"sglang_version": baseline.version, "files": {}}
        for op, reference in baseline.functions.items():
            loaded = load_function(baseline.version, reference)
            functions[op] = loaded.function
            info["files"][op] = {"file": loaded.file, "sha256": loaded.sha256}
        return Impl(name, "baseline", functions, info)
    if baseline.kind == "library":
        return _library_baseline(task, baseline)
    eager = reference_module(task)
    functions = {op: getattr(eager, op) for op in task.ops if callable(getattr(eager, op, None))}
    if baseline.kind == "torch_compile":
        import torch

        functions = {op: torch.compile(fn, dynamic=False) for op, fn in functions.items()}
    return Impl(name, "baseline", functions, {"kind": baseline.kind})


def _library_baseline(task: Task, baseline: Baseline) -> Impl:
    """A library's kernel through the task's own wrapper (`functions`: op -> 'file.py:function')."""
    import torch

    functions, files = {}, {}
    for op, reference in baseline.functions.items():
        file, function = reference.split(":")
        path = task.definition_root / file  # a twin's wrappers are its sibling's
        module = load_module(path, f"kernelpilot_task_{task.name}_{path.stem}")
        if not callable(getattr(module, function, None)):
            raise KernelPilotError(f"baseline {baseline.name}: {file} defines no function {function!r}")
        functions[op] = getattr(module, function)
        files[op] = {"file": reference, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return Impl(baseline.name, "baseline", functions, {"kind": baseline.kind, "torch": torch.__version__,
                                                       "files": files})
