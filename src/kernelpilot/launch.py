"""A lean launch path for Triton kernels: the compiled binary called directly, without the JIT's per-call binding.

Calling `kernel[grid](...)` costs about 10 µs of Python on an H200 host (argument binding, specialization keys,
cache lookup). Once a kernel is compiled for a specialization, `CompiledKernel.run` launches it for about a third
of that. The caller supplies a cheap key that pins what the specialization depends on beyond the constexprs
(dtypes, 16-byte alignment of pointers and of specialized integers); the constexpr values are added to the key
here, so a forgotten one cannot select a binary compiled for another value. Integer arguments that vary between
calls belong in the kernel's `do_not_specialize`.
"""

from __future__ import annotations

import os
from operator import itemgetter
from typing import Any, Hashable, Sequence


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


class CachedLauncher:
    def __init__(self, kernel: Any):
        self.kernel = kernel
        self.compiled: dict[Hashable, Any] = {}
        self._driver = None
        constexprs = list(getattr(kernel, "constexprs", []))  # positions; the interpreter's wrapper has none
        self._constexpr_values = itemgetter(*constexprs) if constexprs else (lambda args: ())

    def __call__(self, key: Hashable, grid: Sequence[int], args: Sequence[Any], **options: Any) -> None:
        """Launch with all kernel parameters in order, constexprs included; `options` are num_warps/num_stages."""
        key = (key, self._constexpr_values(args), options.get("num_warps"), options.get("num_stages"))
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.kernel[tuple(grid)](*args, **options)
            if not interpreting():
                self.compiled[key] = compiled
            return
        driver = self._driver
        if driver is None:
            from triton.runtime import driver as triton_driver

            driver = self._driver = triton_driver.active
        stream = driver.get_current_stream(driver.get_current_device())
        compiled.run(grid[0], grid[1] if len(grid) > 1 else 1, grid[2] if len(grid) > 2 else 1, stream,
                     compiled.function, compiled.packed_metadata, None, None, None, *args)


def aligned(*tensors: Any) -> bool:
    """Whether every pointer is 16-byte aligned, the one pointer property Triton specializes on."""
    return all(t is None or t.data_ptr() % 16 == 0 for t in tensors)
