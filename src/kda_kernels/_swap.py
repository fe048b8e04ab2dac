"""install(), uninstall() and status(): putting exported functions in place of SGLang's, and taking them out again.

A target module SGLang has already imported is swapped at once, and every module that imported the function by name
is rebound too. A target not imported yet is swapped the moment it is, by an import hook, so `import sglang` never
pulls in a kernel module (or initializes CUDA) on kda_kernels' account. References held anywhere but in a module's
globals cannot be rebound; status() counts them.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.metadata
import inspect
import pkgutil
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

PACKAGE = __name__.rpartition(".")[0]
PENDING, SWAPPED, SKIPPED = "pending import", "swapped", "skipped"


@dataclass
class Swap:
    family_module: types.ModuleType
    function: str
    layout: str  # the SGLang version whose file layout names this target
    module: str
    attribute: str
    state: str = PENDING
    original: Callable | None = None
    rebound: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def replacement(self) -> Callable:
        return getattr(self.family_module, self.function)

    @property
    def family(self):
        return self.family_module.FAMILY


_swaps: dict[tuple[str, str], Swap] = {}  # (module, attribute) -> its swap, while installed


def families() -> list[types.ModuleType]:
    """Every exported family module (kda_kernels.<domain>.<family>), imported; they import no kernel code."""
    root = importlib.import_module(PACKAGE)
    found = []
    for domain in pkgutil.iter_modules(root.__path__, f"{PACKAGE}."):
        if not domain.ispkg or domain.name.rpartition(".")[2].startswith("_"):
            continue
        for family in pkgutil.iter_modules(importlib.import_module(domain.name).__path__, f"{domain.name}."):
            module = importlib.import_module(family.name)
            if family.ispkg and hasattr(module, "FAMILY"):
                found.append(module)
    return found


def install() -> dict:
    """Swap every function stamped KDA_OPTIMIZED_<fn> = True into SGLang; the rest stay SGLang's. Idempotent."""
    for family_module in families():
        for function, spec in family_module.FAMILY.functions.items():
            if not getattr(family_module, f"KDA_OPTIMIZED_{function}", False):
                continue
            for layout, target in spec["targets"].items():
                module, _, attribute = target.partition(":")
                if (module, attribute) in _swaps:
                    continue
                swap = _swaps[module, attribute] = Swap(family_module, function, layout, module, attribute)
                if module in sys.modules:
                    _swap_in(swap, rebind_importers=True)
    if any(s.state == PENDING for s in _swaps.values()) and not any(isinstance(f, _SwapOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SwapOnImport())
    return status()


def uninstall() -> dict:
    """Put SGLang's originals back, in the target modules and in every module that holds ours by name; the route
    counts start again from zero."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SwapOnImport)]
    for swap in list(_swaps.values()):
        if swap.state == SWAPPED:
            module = sys.modules.get(swap.module)
            if module is not None and getattr(module, swap.attribute, None) is swap.replacement:
                setattr(module, swap.attribute, swap.original)
            _rebind(swap.replacement, swap.original)
        swap.family.originals.pop(swap.function, None)
        swap.family.calls.clear()
    _swaps.clear()
    return status()


def status() -> dict:
    """The SGLang version found, and for every exported function: its state, target, route counts and stamps."""
    rows = []
    for family_module in families():
        for function, spec in family_module.FAMILY.functions.items():
            swaps = [s for s in _swaps.values() if s.family_module is family_module and s.function == function]
            live = [s for s in swaps if s.state != PENDING] or swaps
            rows.append({
                "function": f"{family_module.__name__}.{function}",
                "optimized": bool(getattr(family_module, f"KDA_OPTIMIZED_{function}", False)),
                "state": _state(live),
                "targets": [_describe(s) for s in live] or list(spec["targets"].values()),
                "routes": family_module.FAMILY.routes(function),
                "stamps": {name: value for name, value in vars(family_module).items()
                           if name.startswith("KDA_") and name.endswith(f"_{function}")},
            })
    return {"sglang": sglang_version(), "installed": bool(_swaps), "functions": rows}


def _state(swaps: list[Swap]) -> str:
    if not swaps:
        return "not installed"
    return " / ".join(sorted({s.state + (f" ({s.note})" if s.note else "") for s in swaps}))


def _describe(swap: Swap) -> dict:
    described = {"target": f"{swap.module}:{swap.attribute}", "layout": swap.layout, "state": swap.state}
    if swap.state == SWAPPED:
        described["replacement"] = f"{swap.family_module.__name__}.{swap.function} ({swap.family_module.__file__})"
        described["rebound_importers"] = list(swap.rebound)
        described["not_rebound"] = _other_references(swap)
    return described


def sglang_version() -> str | None:
    """The version of the SGLang this process has imported (else the installed distribution's), or None."""
    if "sglang" in sys.modules:
        loaded_by_path = getattr(sys.modules["sglang"], "__kernelpilot_version__", None)
        if loaded_by_path:  # loaded from a wheel by KernelPilot's loader, which knows which release it opened
            return loaded_by_path
        try:
            return importlib.import_module("sglang.version").__version__
        except Exception:  # a bare or partial sglang package: fall back to the distribution metadata
            pass
    try:
        return importlib.metadata.version("sglang")
    except importlib.metadata.PackageNotFoundError:
        return None


def _swap_in(swap: Swap, rebind_importers: bool) -> None:
    module = sys.modules[swap.module]
    original = getattr(module, swap.attribute, None)
    if original is None:
        swap.state, swap.note = SKIPPED, f"{swap.module} has no {swap.attribute}"
        return
    expected = swap.family.functions[swap.function]["parameters"]
    found = _parameter_names(original)
    if found is not None and found != expected:
        swap.state, swap.note = SKIPPED, f"SGLang's signature ({', '.join(found)}) differs from ours"
        return
    setattr(module, swap.attribute, swap.replacement)
    swap.state, swap.original = SWAPPED, original
    swap.family.originals.setdefault(swap.function, original)
    if rebind_importers:
        swap.rebound = _rebind(original, swap.replacement)


def _parameter_names(function: Callable) -> list[str] | None:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None


def _rebind(old: Any, new: Any) -> list[str]:
    """Point every module global that holds `old` at `new`; kda_kernels' own modules are left as they are."""
    rebound = []
    for name, module in list(sys.modules.items()):
        if module is None or _is_ours(name):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if value is old:
                namespace[key] = new
                rebound.append(f"{name}.{key}")
    return rebound


def _is_ours(module_name: str) -> bool:
    return module_name == PACKAGE or module_name.startswith(PACKAGE + ".")


def _other_references(swap: Swap) -> list[str]:
    """What still holds SGLang's original outside module globals and kda_kernels' own bookkeeping."""
    ours = {id(swap.family.originals), id(swap.__dict__), id(_swaps)}
    found = []
    for referrer in gc.get_referrers(swap.original):
        if id(referrer) in ours or isinstance(referrer, types.FrameType):
            continue
        owner = next((n for n, m in list(sys.modules.items()) if getattr(m, "__dict__", None) is referrer), None)
        if owner is not None and _is_ours(owner):
            continue
        found.append(f"module {owner}" if owner else type(referrer).__name__)
    return found


def _swap_pending(module_name: str) -> None:
    for swap in _swaps.values():
        if swap.module == module_name and swap.state == PENDING:
            _swap_in(swap, rebind_importers=False)


class _SwapOnImport(importlib.abc.MetaPathFinder):
    """Finds a pending target module with the other finders, and swaps its function right after it executes."""

    def find_spec(self, fullname, path=None, target=None):
        if not any(s.module == fullname and s.state == PENDING for s in _swaps.values()):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _SwappingLoader(spec.loader)
                return spec
        return None


class _SwappingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        _swap_pending(module.__name__)

    def __getattr__(self, name):  # get_source, get_data, is_package ... as the real loader answers them
        return getattr(self.inner, name)
