"""Per-call routing of an exported family: the device's architecture first, then the shape bucket.

A call on a device of an exported architecture goes to that architecture's dispatcher, which picks the kernel that
won the call's shape bucket; a call anywhere else (another GPU, the CPU), or in a bucket a baseline won, runs SGLang's
own function, the one install() replaced.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections import Counter
from typing import Any, Callable

ARCH_OF_CAPABILITY = {(10, 0): "b200", (9, 0): "h200"}
# Forces the route whatever the device: an arch name runs that arch's kernels (under TRITON_INTERPRET=1 on the CPU,
# say), "none" runs SGLang's own functions everywhere. Read once, when the family module is imported: every SGLang
# call goes through implementation(), which should not pay an environment lookup per call.
ARCH_OVERRIDE = "KDA_KERNELS_ARCH"
SGLANG_ROUTE = "sglang"


class Family:
    """One exported family: its functions, the arches it has kernels for, and what install() put in their place."""

    def __init__(self, package: str, arches: tuple[str, ...], functions: dict[str, dict]):
        self.package = package
        self.arches = arches
        self.functions = functions  # name -> {"parameters": [...], "targets": {sglang version: "module:attribute"}}
        self.originals: dict[str, Callable] = {}
        self.calls: Counter = Counter()
        self._dispatchers: dict[str, Any] = {}
        self._device_arch: dict[int, str | None] = {}
        self._forced = os.environ.get(ARCH_OVERRIDE) or None

    def implementation(self, function_name: str, values: dict[str, Any]) -> Callable:
        arch = self.arch_for(next((v.device for v in values.values() if hasattr(v, "device")), None))
        function, route = None, SGLANG_ROUTE
        if arch is not None:
            function, name = self._dispatcher(arch).implementation(function_name, values)
            route = f"{arch}:{name}"
        if function is None:
            function, route = self.original(function_name), SGLANG_ROUTE
        self.calls[function_name, route] += 1
        return function

    def arch_for(self, device) -> str | None:
        """The exported arch whose kernels serve a call on this torch device, or None for SGLang's own function."""
        if self._forced:
            return self._forced if self._forced in self.arches else None
        if device is None or device.type != "cuda":
            return None
        index = device.index if device.index is not None else _current_cuda_device()
        if index not in self._device_arch:
            import torch

            arch = ARCH_OF_CAPABILITY.get(tuple(torch.cuda.get_device_capability(index)))
            self._device_arch[index] = arch if arch in self.arches else None
        return self._device_arch[index]

    def _dispatcher(self, arch: str):
        dispatcher = self._dispatchers.get(arch)
        if dispatcher is None:
            dispatcher = self._dispatchers[arch] = importlib.import_module(f"{self.package}._impls.{arch}.dispatch")
        return dispatcher

    def original(self, function_name: str) -> Callable:
        """The SGLang function install() replaced; without install(), the one the first importable layout has."""
        found = self.originals.get(function_name)
        if found is not None:
            return found
        failures = []
        for target in self.functions[function_name]["targets"].values():
            module_name, _, attribute = target.partition(":")
            try:
                candidate = getattr(importlib.import_module(module_name), attribute)
            except Exception as exc:  # an SGLang module's import-time code may raise anything
                failures.append(f"{module_name}: {type(exc).__name__}: {exc}")
                continue
            if getattr(candidate, "__module__", None) != self.package:
                return candidate
            failures.append(f"{target} holds kda_kernels' own function")
        raise RuntimeError(f"kda_kernels: this call of {function_name} needs SGLang's own function, and none "
                           f"could be found ({'; '.join(failures)})")

    def routes(self, function_name: str) -> dict[str, int]:
        return {route: count for (name, route), count in sorted(self.calls.items()) if name == function_name}


def _current_cuda_device() -> int:
    return sys.modules["torch"].cuda.current_device()
