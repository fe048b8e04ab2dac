"""Builds (once per machine; torch caches the build) and loads the replay extension, on a CUDA machine only."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("replay.cpp")


def entry_type() -> Any:
    """The extension's `Entry` type, or None (with one line on stderr) when it cannot be built here."""
    module = extension()
    return None if module is None else module.Entry


@functools.lru_cache(maxsize=None)
def extension() -> Any:
    from torch.utils.cpp_extension import load

    try:
        module = load(name="kp_replay", sources=[str(SOURCE)], extra_cflags=["-O2"], with_cuda=True,
                      verbose=False)
    except Exception as exc:  # a build failure must not take the candidate down: its Python path still works
        from kernelpilot.replay import warn

        first = str(exc).strip().splitlines()[:1]
        warn(f"extension not built, calls stay on the Python path ({type(exc).__name__}: {first[0] if first else ''})")
        return None
    return module
