"""Host-cost replay: a wrapper's launches recorded once per argument signature and issued again from C++.

A candidate's Python wrapper costs 10-40 µs of host time per call on an H200 host (reshapes, tile policy, launch
keys, `torch.empty_like`, Triton's C launcher), several times what its kernels take on the device for the small
cases. For one argument signature (dtypes, shapes, strides, alignment, scalar values, device) the wrapper makes
the same decisions every time: the same kernels, grids and constants, outputs of the same layout; only the data
pointers change. `planned(wrapper)` returns a C++ entry (`native/replay.cpp`) that runs the wrapper itself the
first time a signature is seen, records what it launched and allocated (`recipe.record_call`), and afterwards
allocates the outputs and launches the recorded kernels directly, with the pointers read anew.

Only calls whose whole effect is seen can be replayed: kernel launches through `kernelpilot.launch.CachedLauncher`
and torch allocations and views. A wrapper that runs any other torch op (a copy, a fill, a `.contiguous()` that
copies) or hands a kernel memory it did not get from its arguments or allocate itself is run in Python every time
for that signature, and `refusals()` says why. Off the GPU, under the interpreter, with `KERNELPILOT_REPLAY=0`
or when the extension cannot be built, `planned` returns the wrapper unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable, Iterator

from kernelpilot.launch import interpreting

from .recipe import REFUSALS, plan_call, refusals

__all__ = ["planned", "refusals", "enabled", "stats", "python_path_only", "REFUSALS"]

_ENTRIES: list[Any] = []  # every entry made in this process (candidates make theirs at import)


def enabled() -> bool:
    if os.environ.get("KERNELPILOT_REPLAY", "1") == "0" or interpreting():
        return False
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def planned(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """The replaying entry for `wrapper` (called positionally), or `wrapper` itself where replay is off."""
    if not enabled():
        return wrapper
    from .native import entry_type

    entry_class = entry_type()
    if entry_class is None:
        return wrapper
    entry = entry_class(wrapper, plan_call)
    _ENTRIES.append(entry)
    return entry


@contextlib.contextmanager
def python_path_only() -> Iterator[None]:
    """Every entry runs its wrapper's Python path inside this block (to compare the two paths or time both)."""
    if not _ENTRIES:
        yield
        return
    from .native import extension

    extension().set_python_path_only(True)
    try:
        yield
    finally:
        extension().set_python_path_only(False)


def stats() -> dict[str, int]:
    """Over every replaying entry of this process: argument signatures seen, those with a plan, calls replayed."""
    total = {"keys": 0, "replayable": 0, "replays": 0}
    for entry in _ENTRIES:
        for name, value in entry.stats().items():
            total[name] += value
    return total


def warn(message: str) -> None:
    print(f"kernelpilot replay: {message}", file=sys.stderr)
