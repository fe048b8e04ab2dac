"""What a task's generated benchmarks/dispatch.py runs: the bucket lookup and the loading of the bucket's winner.

The generated file holds the data (the table of winners, the candidate files) and one function per op; this module
holds the logic, so every task's dispatcher shares it.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any, Callable

from kernelpilot.harness.bucketing import bucket_key, nearest_bucket


class TaskDispatch:
    def __init__(self, task_root: Path, table: dict[str, dict[str, str]], candidates: dict[str, str],
                 helper_folders: list[str], fallback: str):
        self.task_root = task_root
        self.table = table
        self.candidates = candidates  # name -> its module file, relative to the task folder
        self.helper_folders = helper_folders  # where candidates import their `_helpers` from, the first one winning
        self.fallback = fallback
        self._resolved: dict[tuple[str, str], tuple[Callable, frozenset]] = {}

    def implementation(self, op: str, values: dict[str, Any]) -> tuple[Callable, frozenset]:
        """The function that won this call's bucket (the nearest bucket's, else the fallback) and its parameters."""
        key = bucket_key(values)
        table = self.table[op]
        name = table.get(key) or table.get(nearest_bucket(table, key)) or self.fallback
        found = self._resolved.get((op, name))
        if found is None:
            function = self._load(op, name)
            try:
                parameters = frozenset(inspect.signature(function).parameters)
            except (TypeError, ValueError):
                parameters = frozenset()
            found = self._resolved[(op, name)] = (function, parameters)
        return found

    def _load(self, op: str, name: str) -> Callable:
        if name not in self.candidates:  # a baseline: the harness knows how to build it
            from kernelpilot.harness import impls
            from kernelpilot.harness.spec import load_task

            return impls.resolve(load_task(self.task_root), name).functions[op]
        for folder in reversed(self.helper_folders):
            path = str((self.task_root / folder).resolve())
            if path not in sys.path:
                sys.path.insert(0, path)
        module_name = f"kernelpilot_dispatch_{self.task_root.name}_{name}"
        module = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, self.task_root / self.candidates[name])
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        return getattr(module, op)
