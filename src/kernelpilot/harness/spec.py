"""Loading a task folder (task.yaml + workloads.yaml) into checked, typed objects.

A twin is a task folder whose task.yaml names a sibling folder beside it (`twin_of`) and its own arch: it shares
the sibling's K, R, W, baselines, cost and targets, keeps its own ledgers, benchmarks and rendered docs, and sees
the sibling's candidates beside its own (a file of its own overrides the sibling's of the same name).
"""

from __future__ import annotations

import ast
import inspect
from functools import cached_property, lru_cache
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
    sibling: Path | None = None  # a twin's sibling: where its K, R, W and inherited candidates live

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
    def sm(self) -> str:
        major, minor = ARCH_CAPABILITY[self.arch]
        return f"sm_{major}{minor}"

    @property
    def twin_of(self) -> str | None:
        return self.sibling.name if self.sibling else None

    @property
    def definition_root(self) -> Path:
        """The folder holding workloads.yaml and the reference: a twin's sibling, else the task folder itself."""
        return self.sibling or self.root

    @property
    def folders(self) -> list[Path]:
        """Every folder the task reads: its own, then a twin's sibling."""
        return [self.root, *([self.sibling] if self.sibling else [])]

    @property
    def reference_path(self) -> Path:
        return self.definition_root / self.data["reference"]["module"]

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
                    "empty_kernel_factor": 1.5, "host_cost_fraction": 1 / 3, "prefer_lower_host_cost_within": 0.0}
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

    @property
    def candidate_folders(self) -> list[Path]:
        """Where candidate modules and their helpers are looked up, the first folder that has a file winning."""
        return [folder / "candidates" for folder in self.folders]

    def candidate_path(self, name: str) -> Path:
        """The candidate's module (or a `_helper`'s): a twin's own file where it has one, else its sibling's."""
        paths = [folder / f"{name}.py" for folder in self.candidate_folders]
        return next((path for path in paths if path.is_file()), paths[0])

    def candidate_names(self) -> list[str]:
        """Every candidate module but those that declare ARCHES without this task's arch (built for another chip)."""
        names = {path.stem for folder in self.candidate_folders for path in folder.glob("*.py")
                 if not path.name.startswith("_")}
        return sorted(name for name in names
                      if self.arch in declared_constants(self.candidate_path(name))[0].get("ARCHES", [self.arch]))

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
    data = _read_task_yaml(root)
    sibling = None
    if "twin_of" in data:
        sibling, data = _twin_definition(root, data)
    workloads_path = (sibling or root) / "workloads.yaml"
    workloads = read_yaml(workloads_path)
    schemas.validate(workloads, "workloads", str(workloads_path))
    ops = {o["name"]: Op(name=o["name"], signature=o["signature"], returns=o["returns"], doc=o.get("doc", ""),
                         inplace=tuple(o.get("inplace", ())), out_arg=o.get("out_arg"),
                         sglang_entry=o.get("sglang_entry"), correctness_mode=o.get("correctness_mode"))
           for o in data["ops"]}
    baselines = {b["name"]: Baseline(name=b["name"], kind=b["kind"], version=b.get("version"),
                                     target=b.get("target", False), functions=b.get("functions", {}))
                 for b in data["baselines"]}
    cases = [Case(id=c["id"], op=c["op"], args=c["args"], source=c["source"], weight=c.get("weight", 1.0),
                  interpret=c.get("interpret", False)) for c in workloads["cases"]]
    task = Task(root=root, data=data, ops=ops, cases=cases, baselines=baselines, sibling=sibling)
    _cross_check(task)
    return task


def _read_task_yaml(root: Path) -> dict:
    data = read_yaml(root / "task.yaml")
    schemas.validate(data, "task", str(root / "task.yaml"))
    return data


def _twin_definition(root: Path, own: dict) -> tuple[Path, dict]:
    """The twin's sibling folder, and the sibling's task data with the twin's own fields over it."""
    where = root / "task.yaml"
    sibling = _sibling_folder(where, own["twin_of"])
    shared = _read_task_yaml(sibling)
    if "twin_of" in shared:
        raise KernelPilotError(f"{where}: twin_of names {own['twin_of']!r}, itself a twin of {shared['twin_of']!r}; "
                               f"name the task that holds the definition")
    if shared["arch"] == own["arch"]:
        raise KernelPilotError(f"{where}: a twin runs {own['twin_of']} on another arch, but both are {own['arch']}")
    return sibling, {**shared, **{key: value for key, value in own.items() if key != "twin_of"}}


def _cross_check(task: Task) -> None:
    where = task.definition_root / "workloads.yaml"
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
    defined_in = task.definition_root / "task.yaml"
    if not task.reference_path.is_file():
        raise KernelPilotError(f"{task.reference_path}: the reference module is missing")
    for op_name, cost in task.data["cost"].items():
        if op_name not in task.ops:
            raise KernelPilotError(f"{defined_in}: cost names op {op_name!r}, which is not defined")
        if cost.get("flops") and cost["flops"] not in _reference_functions(task):
            raise KernelPilotError(f"{defined_in}: cost of {op_name!r} counts FLOPs with {cost['flops']!r}, "
                                   f"which {task.reference_path.name} does not define")
    for baseline in task.baselines.values():
        if baseline.kind == "library":
            _check_library_baseline(task, baseline)
    if task.data.get("fallback") and task.data["fallback"] not in task.baselines:
        raise KernelPilotError(f"{defined_in}: fallback {task.data['fallback']!r} is not a baseline")


def _reference_functions(task: Task) -> set[str]:
    """Names of the reference module's top-level functions, read without importing it (no torch needed)."""
    path = task.reference_path
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise KernelPilotError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def declared_constants(path: Path) -> tuple[dict, str | None, str | None]:
    """A module's top-level literal constants and docstring, read without running it (and why it does not parse).
    Raises FileNotFoundError for a missing file. Parsed once per text of the file: candidate_names() asks for
    every candidate's, and the harness asks for candidate_names() many times a command."""
    return _parsed_constants(str(path), path.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def _parsed_constants(path: str, text: str) -> tuple[dict, str | None, str | None]:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        return {}, None, f"does not parse: {exc.msg} (line {exc.lineno})"
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found, ast.get_docstring(tree), None


def _check_library_baseline(task: Task, baseline: Baseline) -> None:
    where = task.definition_root / "task.yaml"
    if not baseline.functions:
        raise KernelPilotError(f"{where}: library baseline {baseline.name!r} names no `functions` (op -> 'file.py:fn')")
    for op, reference in baseline.functions.items():
        if op not in task.ops:
            raise KernelPilotError(f"{where}: baseline {baseline.name!r} names op {op!r}, which is not defined")
        if not (task.definition_root / reference.split(":")[0]).is_file():
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


def definition_folder(task_dir: Path) -> Path:
    """Where the task's workloads.yaml lives: a twin's sibling, else the folder itself. A light read of the raw
    task.yaml (no schema check), for callers such as the loop that also take a folder with only workloads.yaml."""
    task_yaml = task_dir / "task.yaml"
    data = read_yaml(task_yaml) if task_yaml.is_file() else None
    if not isinstance(data, dict) or "twin_of" not in data:
        return task_dir
    twin_of = data["twin_of"]
    if not isinstance(twin_of, str):
        raise KernelPilotError(f"{task_yaml}: twin_of must name a sibling folder, not {twin_of!r}")
    return _sibling_folder(task_yaml, twin_of)


def _sibling_folder(task_yaml: Path, twin_of: str) -> Path:
    sibling = task_yaml.parent.parent / twin_of
    if not (sibling / "task.yaml").is_file():
        raise KernelPilotError(f"{task_yaml}: twin_of names {twin_of!r}, but {sibling} is not a task folder")
    return sibling
