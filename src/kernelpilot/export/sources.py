"""The promoted candidates' source files, made importable from inside the kda_kernels package.

Candidates import their shared helpers as top-level modules (`from _norm_rows import RowNorm`, with the task's
candidates/ folder on sys.path). In the package those imports become relative, so each arch's helpers stay its own.
KernelPilot modules that the exported code may import are the ones the kda_kernels runtime promises to carry:
kda_kernels ships in the kernelpilot distribution, so `kernelpilot.launch` (standard library only),
`kernelpilot.pdl`, `kernelpilot.load_order` and `kernelpilot.norm_stats` (Triton, which the kernels need anyway)
are always there; the generated dispatchers also import `kernelpilot.harness.bucketing` (no imports of its own).
"""

from __future__ import annotations

import ast
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.spec import Task

RUNTIME_MODULES = frozenset({"kernelpilot.launch", "kernelpilot.load_order", "kernelpilot.norm_stats",
                             "kernelpilot.pdl", "kernelpilot.replay"})


def portable_sources(task: Task, promoted: list[str]) -> dict[str, str]:
    """file name -> source, for the promoted candidates and every `_helper` they import, imports made relative.
    Each file is the one the task itself loads (Task.candidate_path: a twin's own, else its sibling's)."""
    sources: dict[str, str] = {}
    queue = list(promoted)
    while queue:
        name = queue.pop()
        if f"{name}.py" in sources:
            continue
        path = task.candidate_path(name)
        sources[f"{name}.py"], helpers = _relative_imports(path, path.read_text(encoding="utf-8"), task)
        queue += helpers
    return dict(sorted(sources.items()))


def _relative_imports(path: Path, text: str, task: Task) -> tuple[str, list[str]]:
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise KernelPilotError(f"{path}:{exc.lineno}: cannot parse the candidate: {exc.msg}") from None
    lines = text.splitlines(keepends=True)
    helpers: list[str] = []
    edits: list[tuple[ast.stmt, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        local = [n for n in names if task.candidate_path(n).is_file()]
        for name in names:
            if name.split(".")[0] == "kernelpilot" and name not in RUNTIME_MODULES:
                raise KernelPilotError(f"{path}:{node.lineno}: imports {name}, which kda_kernels does not carry "
                                       f"(exported code may import only {', '.join(sorted(RUNTIME_MODULES))})")
        if not local:
            continue
        if isinstance(node, ast.Import):
            if len(node.names) != 1 or node.names[0].asname:
                raise KernelPilotError(f"{path}:{node.lineno}: write `import {local[0]}` on a line of its own, "
                                       f"without `as`, so the export can make it relative")
            edits.append((node, f"from . import {local[0]}"))
        else:
            edits.append((node, "from ." + ast.get_source_segment(text, node)[len("from "):].lstrip()))
        helpers += local
    for node, replacement in sorted(edits, key=lambda edit: edit[0].lineno, reverse=True):
        start, end = node.lineno - 1, node.end_lineno - 1
        prefix = lines[start][:node.col_offset]
        suffix = lines[end][node.end_col_offset:]
        lines[start:end + 1] = [prefix + replacement + suffix]
    return "".join(lines), helpers


def check_signatures(task: Task, winners: dict[str, list[str]]) -> None:
    """Each promoted candidate defines every op it won, with the op's parameters in order (so calls pass through)."""
    for name, ops in winners.items():
        path = task.candidate_path(name)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        for op in ops:
            function = defined.get(op)
            if function is None:
                raise KernelPilotError(f"{path}: promoted for {op}, but defines no top-level function {op}()")
            arguments = function.args
            found = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
            expected = task.ops[op].parameter_names
            if found != expected:
                raise KernelPilotError(f"{path}:{function.lineno}: {op}({', '.join(found)}) does not take the op's "
                                       f"parameters ({', '.join(expected)}) in order")
