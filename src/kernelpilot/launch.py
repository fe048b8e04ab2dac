"""A lean launch path for Triton kernels: the compiled binary called directly, without the JIT's per-call binding.

Calling `kernel[grid](...)` costs about 13 µs of Python on an H200 host (argument binding, specialization keys,
cache lookup). Once a kernel is compiled for a specialization, its C launcher can be called for a fraction of
that. The caller supplies a cheap key that pins what the specialization depends on beyond the constexprs
(dtypes, 16-byte alignment of pointers and of specialized integers); the constexpr values are added to the key
here, so a forgotten one cannot select a binary compiled for another value. Integer arguments that vary between
calls belong in the kernel's `do_not_specialize`.

Host-side arithmetic uses `ceil_div` and `next_pow2` from here: `triton.cdiv` and `triton.next_power_of_2` are
`ConstexprFunction` objects in Triton 3.6, 1.56 µs a call from Python against 0.07 µs for these
(docs/host-overhead-cpu.txt, measured on the development CPU).
"""

from __future__ import annotations

import functools
import os
from operator import itemgetter
from typing import Any, Callable, Hashable, Sequence


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def next_pow2(n: int) -> int:
    """The smallest power of two at least n (0 for 0), as triton.next_power_of_2 but a plain function."""
    return 1 << (n - 1).bit_length() if n > 0 else 0


def rows_for_programs(most: int, n_rows: int, programs: int) -> int:
    """Rows a program: `most` (a power of two), halved while a grid over n_rows would have fewer than `programs`
    programs (a tile policy's floor on parallelism)."""
    rows = most
    while rows > 1 and n_rows < programs * rows:
        rows //= 2
    return rows


def broadcast_strides(t: Any, shape: Sequence[int]) -> tuple[int, ...]:
    """The strides `t.expand(*shape)` would have (0 along broadcast dims), read without making the view: 0.3 µs
    against 1.1 µs for the expand (docs/host-overhead-cpu.txt, development CPU), which a wrapper with three
    broadcast operands pays on every call. Layouts repeat from call to call, so the answer is cached per (shape,
    strides, target)."""
    return _broadcast_strides(t.shape, t.stride(), tuple(shape))


@functools.lru_cache(maxsize=4096)
def _broadcast_strides(own_shape: tuple[int, ...], own_strides: tuple[int, ...],
                       shape: tuple[int, ...]) -> tuple[int, ...]:
    lead = len(shape) - len(own_shape)
    if lead < 0:
        raise ValueError(f"operand {tuple(own_shape)} has more dims than {shape}")
    strides = [0] * lead
    for size, stride, wanted in zip(own_shape, own_strides, shape[lead:]):
        if size != wanted and size != 1:
            raise ValueError(f"operand {tuple(own_shape)} does not broadcast to {shape}")
        strides.append(stride if size == wanted else 0)
    return tuple(strides)


def multiprocessors(tensor: Any) -> int:
    """The SM count of the GPU holding `tensor`, read once per device: grids and tile policies are sized by it, so a
    policy tuned on an H200 (132 SMs) stays sound on another chip. Off the GPU (the interpreter, `task compile`)
    it is an H200's 132: there a policy only has to be valid."""
    return _device_multiprocessors(tensor.device.index) if tensor.is_cuda else 132


@functools.lru_cache(maxsize=None)
def _device_multiprocessors(index: int | None) -> int:
    import torch

    return torch.cuda.get_device_properties(index).multi_processor_count


Launch = Callable[[int, int, int, int, Sequence[Any]], None]

# While kernelpilot.replay records a call: (Triton's CompiledKernel, grid, every argument) of each launch.
RECORDER: list[tuple[Any, Sequence[int], tuple]] | None = None


class CachedLauncher:
    """`pdl`: None for a kernel without grid dependency control; True or False for one whose last parameter is a
    `PDL: tl.constexpr` and whose first statement is `kernelpilot.pdl.pdl_prologue(PDL)`. The launcher supplies
    that parameter and, when True, launches with programmatic dependent launch, so the next kernel's launch
    overlaps this one's tail (0.43-0.60 µs off each small norm_infer case's device time in H200 run
    20261123T164321Z-ed9fdf). The interpreter has no grid dependency control: False there."""

    def __init__(self, kernel: Any, pdl: bool | None = None):
        self.kernel = kernel
        self.pdl = pdl if pdl is None else pdl and not interpreting()
        self.compiled: dict[Hashable, tuple[Launch, Any]] = {}  # key -> (launch, Triton's CompiledKernel)
        self._stream: Callable[[], int] | None = None
        constexprs = list(getattr(kernel, "constexprs", []))  # positions; the interpreter's wrapper has none
        self._constexpr_values = itemgetter(*constexprs) if constexprs else (lambda args: ())

    def __call__(self, key: Hashable, grid: Sequence[int], args: Sequence[Any], **options: Any) -> Launch | None:
        """Launch with the kernel's parameters in order, constexprs included (PDL excepted); `options` are
        num_warps/num_stages. Returns the cached binary's launch (None where none is cached: the interpreter)."""
        if self.pdl is not None:
            args = (*args, self.pdl)
        key = (key, self._constexpr_values(args), *options.values())
        cached = self.compiled.get(key)
        if cached is None:
            compiled = self.jit_launch(grid, args, options)
            launch = None
            if not interpreting():
                launch = direct_launch(compiled)
                self.compiled[key] = (launch, compiled)
        else:
            launch, compiled = cached
            stream = self._stream or self._bind_stream()
            launch(grid[0], grid[1] if len(grid) > 1 else 1, grid[2] if len(grid) > 2 else 1, stream(), args)
        if RECORDER is not None:
            RECORDER.append((compiled, grid, args))
        return launch

    def launch_all(self, key: Hashable, launches: Sequence[tuple[Sequence[int], Sequence[Any]]],
                   **options: Any) -> None:
        """Several launches of one specialization back to back (a pipeline over waves): (grid, args) pairs that
        differ only in grid and runtime arguments, so the binary and the stream are looked up once for them all.
        The first goes through __call__ (compiling if need be); where that caches no binary (the interpreter,
        `task compile`) the others do too."""
        (grid, args), rest = launches[0], launches[1:]
        launch = self(key, grid, args, **options)
        if launch is None:
            for grid, args in rest:
                self(key, grid, args, **options)
            return
        stream = (self._stream or self._bind_stream())()
        tail = () if self.pdl is None else (self.pdl,)
        recorder = RECORDER
        for grid, args in rest:
            args = (*args, *tail)
            launch(grid[0], grid[1] if len(grid) > 1 else 1, grid[2] if len(grid) > 2 else 1, stream, args)
            if recorder is not None:
                recorder.append((recorder[-1][0], grid, args))

    def jit_launch(self, grid: Sequence[int], args: Sequence[Any], options: dict) -> Any:
        """The JIT's own launch, compiling on first use; `args` include the PDL parameter when the kernel has one."""
        return self.kernel[tuple(grid)](*args, **options, **({"launch_pdl": True} if self.pdl else {}))

    def _bind_stream(self) -> Callable[[], int]:
        import torch

        # The device is initialized by the first (compiling) call; what is left per call is two C lookups.
        get_stream, get_device = torch._C._cuda_getCurrentRawStream, torch._C._cuda_getDevice
        self._stream = lambda: get_stream(get_device())
        return self._stream


def direct_launch(compiled: Any) -> Launch:
    """Call the compiled kernel's C launcher itself when the kernel needs no scratch memory (the common case), else
    go through `CompiledKernel.run`, which allocates it. Profiler hooks are not called on this path."""
    launcher = compiled.run
    head = launcher_head(compiled)
    if launcher.global_scratch_size or launcher.profile_scratch_size:
        head = head[:1] + head[5:]
        launch = launcher
    else:
        launch = launcher.launch
    return lambda grid_x, grid_y, grid_z, stream, args: launch(grid_x, grid_y, grid_z, stream, *head, *args)


def launcher_head(compiled: Any) -> tuple:
    """The arguments Triton 3.6's C launcher (`compiled.run.launch`) takes between the stream and the kernel's own:
    function, cooperative and PDL flags, scratch buffers (none), packed metadata and the three hook slots."""
    launcher = compiled.run
    return (compiled.function, launcher.launch_cooperative_grid, launcher.launch_pdl, None, None,
            compiled.packed_metadata, None, None, None)


def aligned(*tensors: Any) -> bool:
    """Whether every pointer (None for an absent operand) is 16-byte aligned, the one pointer property Triton
    specializes on."""
    bits = 0
    for t in tensors:
        if t is not None:
            bits |= t.data_ptr()
    return bits & 15 == 0
