"""Loading a task folder (task.yaml + workloads.yaml) into checked, typed objects."""

from __future__ import annotations

import ast
import inspect
from functools import cached_property
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernelpilot import schemas
from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_yaml

ARCH_CAPABILITY = {"h200": (9, 0), "b200": (10, 0)}
DEFAULT_BOUNDS = {
    "float64": {"rel": 1e-12, "abs": 1e-10},
    "float32": {"rel": 1e-5, "abs": 1e-4},
    "float16": {"rel": 2e-3, "abs": 1e-2},
    "bfloat16": {"rel": 1e-2, "abs": 6e-2},
}


@dataclass(frozen=True)
class Op:
    name: str
    signature: str
    returns: str
    doc: str = ""
    inplace: tuple[str, ...] = ()
    out_arg: str | None = None
    sglang_entry: str | None = None
    correctness_mode: str | None = None  # None: the task's mode

    @cached_property
    def parameters(self) -> list[inspect.Parameter]:
        """The signature's parameters in call order (kinds included), parsed as Python."""
        return list(_parse_signature(self.signature).parameters.values())

    @cached_property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]


def _parse_signature(text: str) -> inspect.Signature:
    namespace: dict[str, Any] = {}
    try:
        exec(compile(f"from __future__ import annotations\ndef {text.strip()}: pass\n", "<signature>", "exec"),
             namespace)
    except SyntaxError:
        raise KernelPilotError(f"op signature {text!r} is not a Python function signature") from None
    function = next(v for k, v in namespace.items() if callable(v) and k != "annotations")
    return inspect.signature(function)


@dataclass(frozen=True)
class Case:
    id: str
    op: str
    args: dict[str, Any]
    source: dict[str, str]
    weight: float = 1.0
    interpret: bool = False

    def tensor_args(self) -> dict[str, dict]:
        return {name: spec for name, spec in self.args.items() if isinstance(spec, dict)}

    def describe(self) -> str:
        parts = []
        for name, spec in self.args.items():
            if isinstance(spec, dict):
                shape = "x".join(str(d) for d in spec["shape"])
                strided = " strided" if "strides" in spec else ""
                parts.append(f"{name}[{shape}] {spec['dtype']}{strided}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Baseline:
    name: str
    kind: str
    version: str | None = None
    target: bool = False
    functions: dict[str, str] = field(default_factory=dict)


@dataclass
class Task:
    root: Path
    data: dict
    ops: dict[str, Op]
    cases: list[Case]
    baselines: dict[str, Baseline]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def flops_dtypes(self) -> set[str]:
        """The dtypes whose matmul ceiling a FLOP-counted op is read against (none for memory-bound tasks)."""
        return {cost.get("flops_dtype", "bfloat16") for cost in self.data["cost"].values() if cost.get("flops")}

    @property
    def arch(self) -> str:
        return self.data["arch"]

    @property
    def correctness(self) -> dict:
        return self.data["correctness"]

    @property
    def reference_dtype(self) -> str:
        return self.data["reference"].get("dtype", "float64")

    @property
    def fallback(self) -> str:
        return self.data.get("fallback") or next(iter(self.baselines))

    @property
    def targets(self) -> dict:
        defaults = {"speedup_over_target_baseline": 1.5, "copy_ceiling_fraction": 0.9,
                    "empty_kernel_factor": 1.5, "host_cost_fraction": 1 / 3}
        return {**defaults, **self.data.get("targets", {})}

    def correctness_mode(self, op: str) -> str:
        """tolerance or bitexact: the op's own mode where it declares one (a task may mix the two), else the task's."""
        return self.ops[op].correctness_mode or self.correctness["mode"]

    def bounds(self, dtype: str) -> dict:
        return {**DEFAULT_BOUNDS, **self.correctness.get("bounds", {})}[dtype]

    def cases_for(self, op: str | None = None, interpret_only: bool = False, ids: list[str] | None = None) -> list[Case]:
        chosen = [c for c in self.cases if (op is None or c.op == op) and (not interpret_only or c.interpret)]
        if ids:
            unknown = sorted(set(ids) - {c.id for c in self.cases})
            if unknown:
                raise KernelPilotError(f"{self.name}: no case named {unknown[0]!r} in workloads.yaml")
            chosen = [c for c in chosen if c.id in ids]
        return chosen

    def candidate_names(self) -> list[str]:
        folder = self.root / "candidates"
        return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


def find_task_root(path: str | Path) -> Path:
    """Accept the task folder itself or any path inside it."""
    start = Path(path).resolve()
    for candidate in [start, *start.parents]:
        if (candidate / "task.yaml").is_file():
            return candidate
    raise KernelPilotError(f"{path}: not a task folder (no task.yaml here or above)")


def load_task(path: str | Path) -> Task:
    root = find_task_root(path)
    data = read_yaml(root / "task.yaml")
    schemas.validate(data, "task", str(root / "task.yaml"))
    workloads = read_yaml(root / "workloads.yaml")
    schemas.validate(workloads, "workloads", str(root / "workloads.yaml"))
    ops = {o["name"]: Op(name=o["name"], signature=o["signature"], returns=o["returns"], doc=o.get("doc", ""),
                         inplace=tuple(o.get("inplace", ())), out_arg=o.get("out_arg"),
                         sglang_entry=o.get("sglang_entry"), correctness_mode=o.get("correctness_mode"))
           for o in data["ops"]}
    baselines = {b["name"]: Baseline(name=b["name"], kind=b["kind"], version=b.get("version"),
                                     target=b.get("target", False), functions=b.get("functions", {}))
                 for b in data["baselines"]}
    cases = [Case(id=c["id"], op=c["op"], args=c["args"], source=c["source"], weight=c.get("weight", 1.0),
                  interpret=c.get("interpret", False)) for c in workloads["cases"]]
    task = Task(root=root, data=data, ops=ops, cases=cases, baselines=baselines)
    _cross_check(task)
    return task


def _cross_check(task: Task) -> None:
    where = task.root / "workloads.yaml"
    seen: set[str] = set()
    for case in task.cases:
        if case.id in seen:
            raise KernelPilotError(f"{where}: case id {case.id!r} appears twice")
        seen.add(case.id)
        op = task.ops.get(case.op)
        if op is None:
            raise KernelPilotError(f"{where}: case {case.id!r} names op {case.op!r}, which task.yaml does not define")
        unknown = sorted(set(case.args) - set(op.parameter_names))
        if unknown:
            raise KernelPilotError(f"{where}: case {case.id!r} passes {unknown[0]!r}, not a parameter of {op.signature}")
        for name, spec in case.tensor_args().items():
            if "strides" in spec and len(spec["strides"]) != len(spec["shape"]):
                raise KernelPilotError(f"{where}: case {case.id!r} arg {name!r} has {len(spec['strides'])} strides "
                                       f"for {len(spec['shape'])} dims")
    if not (task.root / task.data["reference"]["module"]).is_file():
        raise KernelPilotError(f"{task.root}: reference module {task.data['reference']['module']} is missing")
    for op_name, cost in task.data["cost"].items():
        if op_name not in task.ops:
            raise KernelPilotError(f"{task.root / 'task.yaml'}: cost names op {op_name!r}, which is not defined")
        if cost.get("flops") and cost["flops"] not in _reference_functions(task):
            raise KernelPilotError(f"{task.root / 'task.yaml'}: cost of {op_name!r} counts FLOPs with "
                                   f"{cost['flops']!r}, which {task.data['reference']['module']} does not define")
    for baseline in task.baselines.values():
        if baseline.kind == "library":
            _check_library_baseline(task, baseline)
    if task.data.get("fallback") and task.data["fallback"] not in task.baselines:
        raise KernelPilotError(f"{task.root / 'task.yaml'}: fallback {task.data['fallback']!r} is not a baseline")


def _reference_functions(task: Task) -> set[str]:
    """Names of the reference module's top-level functions, read without importing it (no torch needed)."""
    path = task.path(task.data["reference"]["module"])
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise KernelPilotError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _check_library_baseline(task: Task, baseline: Baseline) -> None:
    where = task.root / "task.yaml"
    if not baseline.functions:
        raise KernelPilotError(f"{where}: library baseline {baseline.name!r} names no `functions` (op -> 'file.py:fn')")
    for op, reference in baseline.functions.items():
        if op not in task.ops:
            raise KernelPilotError(f"{where}: baseline {baseline.name!r} names op {op!r}, which is not defined")
        if not (task.root / reference.split(":")[0]).is_file():
            raise KernelPilotError(f"{where}: baseline {baseline.name!r} calls {reference}, but the task folder has "
                                   f"no {reference.split(':')[0]}")


def call_arguments(op: Op, values: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments in signature order up to the first one a case leaves out, keywords after that."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for index, parameter in enumerate(op.parameters):
        if parameter.name not in values:
            continue
        by_position = (parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
                       and not keywords and len(positional) == index)
        if by_position:
            positional.append(values[parameter.name])
        else:
            keywords[parameter.name] = values[parameter.name]
    return positional, keywords
