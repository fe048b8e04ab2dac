"""One recorded call of a wrapper turned into a replay plan: what to allocate, what to launch with which
parameters, what to return.

Each kernel parameter is a constant (every scalar: the call's key pins every scalar argument and every shape) or
a pointer into one of three kinds of memory: an argument (the byte offset from its data pointer), an output the
wrapper allocated and returned, or scratch it allocated and dropped (from the start of that allocation). The
layout of Triton's kernel parameters is the one its own C launcher builds: the non-constexpr parameters in
order, scalars in their signature's width, then two scratch pointers, which a plan leaves null (kernels that need
scratch memory are not replayed).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import kernelpilot.launch as launch_module

CONSTANT, INPUT, OUTPUT, SCRATCH = 0, 1, 2, 3  # where a kernel parameter's value comes from
NONE_ITEM = 0  # a returned item is None, an argument (INPUT) or an allocation (OUTPUT)
NONE_RESULT, SINGLE_RESULT, TUPLE_RESULT = 0, 1, 2

_INT_BYTES = {"i1": 1, "i8": 1, "u1": 1, "u8": 1, "i16": 2, "u16": 2, "i32": 4, "u32": 4, "i64": 8, "u64": 8}
_FLOAT_FORMATS = {"fp16": "<e", "fp32": "<f", "f32": "<f", "fp64": "<d"}

REFUSALS: "OrderedDict[str, str]" = OrderedDict()  # wrapper name -> why its last refused call was refused
_MAX_REFUSALS = 256


class NotReplayable(Exception):
    """The call's effect is not fully described by its launches and allocations; the message says what is not."""


@dataclass
class Plan:
    outputs: list = field(default_factory=list)  # (returned tensor owning its allocation, zeroed)
    scratch: list = field(default_factory=list)  # (bytes, a tensor in it, zeroed)
    launches: list = field(default_factory=list)  # (function, grid, threads, shared bytes, pdl, params)
    result: tuple = (NONE_RESULT, [])

    def as_native(self) -> tuple:
        return (self.outputs, self.scratch, self.launches, self.result)


def refusals() -> dict[str, str]:
    return dict(REFUSALS)


def plan_call(wrapper: Callable[..., Any], args: tuple) -> tuple[Any, tuple | None]:
    """The planner the C++ entry calls on a new key: run the wrapper (its result is this call's), and make a plan
    of it, or None when it cannot be replayed."""
    result, launches, watch = record_call(wrapper, args)
    try:
        plan = make_plan(args, launches, result, watch, function_of=lambda compiled: compiled.function)
    except NotReplayable as exc:
        name = getattr(wrapper, "__qualname__", type(wrapper).__qualname__)
        REFUSALS[name] = str(exc)
        REFUSALS.move_to_end(name)
        while len(REFUSALS) > _MAX_REFUSALS:
            REFUSALS.popitem(last=False)
        return result, None
    return result, plan.as_native()


def record_call(wrapper: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, list[tuple], "_OpWatch"]:
    """Call the wrapper, recording the kernels it launches through CachedLauncher (each as Triton's compiled
    kernel, the grid and every argument, constexprs included), which allocations it zeroed, and every torch op it
    runs that is neither an allocation nor a view (those a replay would skip)."""
    recorded: list[tuple] = []
    with _OpWatch() as watch:
        previous, launch_module.RECORDER = launch_module.RECORDER, recorded
        try:
            result = wrapper(*args)
        finally:
            launch_module.RECORDER = previous
    return result, recorded, watch


def replay_verdict(args: Sequence[Any], launches: Sequence[tuple], result: Any, watch: "_OpWatch") -> str:
    """One line for a recorded call: how its replay would run, or why it cannot be replayed."""
    try:
        plan = make_plan(args, launches, result, watch, function_of=lambda compiled: 0)
    except NotReplayable as exc:
        return f"not replayable: {exc}"
    return f"replayable: {len(plan.launches)} launch(es), {len(plan.outputs)} output(s), {len(plan.scratch)} scratch"


def make_plan(args: Sequence[Any], launches: Sequence[tuple], result: Any, watch: "_OpWatch",
              function_of: Callable[[Any], int]) -> Plan:
    if watch.foreign:
        raise NotReplayable(f"runs torch ops a replay would skip: {', '.join(sorted(set(watch.foreign))[:4])}")
    zeroed = watch.zeroed
    memory = _Memory(args, _returned_tensors(result))
    plan = Plan(result=memory.result_spec(result))
    for recorded in launches:
        plan.launches.append(_launch_entry(recorded, memory, function_of))
    plan.outputs = [(t, t.untyped_storage().data_ptr() in zeroed) for t in memory.outputs]
    plan.scratch = [(nbytes, like, like.untyped_storage().data_ptr() in zeroed) for nbytes, like in memory.scratch]
    if not plan.launches:
        raise NotReplayable("launched no kernel through CachedLauncher")
    return plan


def _launch_entry(recorded: tuple, memory: "_Memory", function_of: Callable[[Any], int]) -> tuple:
    compiled, grid, args = recorded
    meta = compiled.metadata
    if meta.num_ctas != 1 or meta.launch_cooperative_grid:
        raise NotReplayable("a kernel launches as a cluster or a cooperative grid")
    if meta.global_scratch_size or meta.profile_scratch_size or getattr(meta, "tensordesc_meta", None):
        raise NotReplayable("a kernel needs Triton scratch memory or tensor descriptors")
    signature = list(compiled.src.signature.values())
    if len(signature) != len(args):
        raise NotReplayable(f"{meta.name}: {len(args)} arguments for {len(signature)} parameters")
    params = []
    for kind, value in zip(signature, args):
        if kind == "constexpr":
            continue
        params.append(_param(kind, value, memory, meta.name))
    grid = tuple(grid) + (1,) * (3 - len(grid))
    return (function_of(compiled), grid, 32 * meta.num_warps, meta.shared, bool(meta.launch_pdl), params)


def _param(kind: str, value: Any, memory: "_Memory", kernel: str) -> tuple[int, int, int]:
    if kind.startswith("*"):
        return memory.pointer(value, kernel)
    if kind in _INT_BYTES:
        bits = int(value) & ((1 << (8 * _INT_BYTES[kind])) - 1)
        return (CONSTANT, 0, bits - (1 << 64) if bits >= 1 << 63 else bits)
    if kind in _FLOAT_FORMATS:
        raw = struct.pack(_FLOAT_FORMATS[kind], float(value))
        return (CONSTANT, 0, int.from_bytes(raw.ljust(8, b"\0"), "little", signed=True))
    if kind == "bf16":
        return (CONSTANT, 0, struct.unpack("<I", struct.pack("<f", float(value)))[0] >> 16)
    raise NotReplayable(f"{kernel}: a parameter of type {kind}")


def _returned_tensors(result: Any) -> list:
    import torch

    if result is None:
        return []
    if isinstance(result, tuple):
        items = [t for t in result if t is not None]
    else:
        items = [result]
    if not all(isinstance(t, torch.Tensor) for t in items):
        raise NotReplayable("returns something other than tensors and None")
    return items


def _span_bytes(t: Any) -> int:
    if t.numel() == 0:
        return 0
    return (1 + sum((size - 1) * stride for size, stride in zip(t.shape, t.stride()))) * t.element_size()


class _Memory:
    """Where each pointer a kernel receives comes from: an argument, a returned output or scratch."""

    def __init__(self, args: Sequence[Any], returned: list):
        import torch

        self.args = list(args)
        self.inputs = [(i, a) for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
        self.returned = returned
        self.outputs: list = []
        self._output_index: dict[int, int] = {}  # storage base -> output index
        self.scratch: list[tuple[int, Any]] = []
        self._scratch_index: dict[int, int] = {}
        for t in returned:
            if any(t is a for _, a in self.inputs):
                continue
            base = t.untyped_storage().data_ptr()
            if any(a.untyped_storage().data_ptr() == base for _, a in self.inputs):
                raise NotReplayable("returns a view of an argument")
            if base in self._output_index:
                raise NotReplayable("returns two views of one allocation")
            if t.data_ptr() != base or t.untyped_storage().nbytes() != _span_bytes(t):
                raise NotReplayable("returns a view into a larger allocation")
            self._output_index[base] = len(self.outputs)
            self.outputs.append(t)

    def result_spec(self, result: Any) -> tuple:
        if result is None:
            return (NONE_RESULT, [])
        if isinstance(result, tuple):
            return (TUPLE_RESULT, [self._item(t) for t in result])
        return (SINGLE_RESULT, [self._item(result)])

    def _item(self, t: Any) -> tuple[int, int]:
        if t is None:
            return (NONE_ITEM, 0)
        source = next((i for i, a in self.inputs if t is a), None)
        if source is not None:
            return (INPUT, source)
        return (OUTPUT, self._output_index[t.untyped_storage().data_ptr()])

    def pointer(self, t: Any, kernel: str) -> tuple[int, int, int]:
        import torch

        if not isinstance(t, torch.Tensor):
            raise NotReplayable(f"{kernel}: a pointer parameter given a {type(t).__name__}")
        ptr = t.data_ptr()
        exact = [i for i, a in self.inputs if a.data_ptr() == ptr]
        if len(exact) > 1:
            raise NotReplayable(f"{kernel}: two arguments share the data pointer it receives")
        if exact:
            return (INPUT, exact[0], 0)
        base = t.untyped_storage().data_ptr()
        sharing = [(i, a) for i, a in self.inputs if a.untyped_storage().data_ptr() == base]
        if len(sharing) > 1:
            raise NotReplayable(f"{kernel}: receives a view into memory two arguments share")
        if sharing:
            index, arg = sharing[0]
            offset = ptr - arg.data_ptr()
            if offset and arg.data_ptr() % 16:
                raise NotReplayable(f"{kernel}: an offset into an argument that is not 16-byte aligned")
            return (INPUT, index, offset)
        if base in self._output_index:
            index = self._output_index[base]
            return (OUTPUT, index, ptr - self.outputs[index].data_ptr())
        if base not in self._scratch_index:
            self._scratch_index[base] = len(self.scratch)
            self.scratch.append((t.untyped_storage().nbytes(), t))
        return (SCRATCH, self._scratch_index[base], ptr - base)


class _OpWatch:
    """A torch dispatch mode that lets every op run and notes those that are neither allocations nor views, and
    the storage of each allocation made zeroed."""

    def __enter__(self) -> "_OpWatch":
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode

        aten = torch.ops.aten
        allocations = {aten.empty, aten.empty_like, aten.empty_strided, aten.new_empty, aten.new_empty_strided}
        zeroing = {aten.zeros, aten.zeros_like, aten.new_zeros}
        watch = self
        self.foreign: list[str] = []
        self.zeroed: set[int] = set()

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                if func.overloadpacket in zeroing:
                    watch.zeroed.add(out.untyped_storage().data_ptr())
                elif not (func.is_view or func.overloadpacket in allocations):
                    watch.foreign.append(str(func.overloadpacket.__name__))
                return out

        self._mode = Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)
