"""Building a case's arguments: seeded random tensors with the shapes, dtypes and strides W names."""

from __future__ import annotations

from typing import Any

import torch

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.spec import Case

DTYPES = {
    "float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
    "int8": torch.int8, "int32": torch.int32, "int64": torch.int64,
}
DTYPE_LITERAL_PREFIX = "torch."  # a non-tensor argument written `torch.float16` is passed as that dtype


def storage_elements(shape: list[int], strides: list[int]) -> int:
    if any(d == 0 for d in shape):
        return 0
    return 1 + sum((d - 1) * s for d, s in zip(shape, strides))


def empty_tensor(spec: dict, device: str | torch.device) -> torch.Tensor:
    """An uninitialised tensor with the spec's shape, dtype and (when given) strides."""
    dtype = DTYPES[spec["dtype"]]
    shape = list(spec["shape"])
    if "strides" not in spec:
        return torch.empty(shape, dtype=dtype, device=device)
    strides = list(spec["strides"])
    storage = torch.empty(storage_elements(shape, strides), dtype=dtype, device=device)
    return storage.as_strided(shape, strides)


def fill_(tensor: torch.Tensor, spec: dict, generator: torch.Generator) -> torch.Tensor:
    """Fill in place with the spec's distribution, drawn on the tensor's own device."""
    dist = spec.get("dist", "normal" if tensor.dtype.is_floating_point else "randint")
    scale = spec.get("scale", 1.0)
    shape, device = tuple(tensor.shape), tensor.device
    draw_dtype = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    if dist == "randint":
        low, high = randint_bounds(spec, tensor.dtype)
        values = torch.randint(low, high, shape, generator=generator, device=device)
    elif dist == "uniform":
        values = (torch.rand(shape, generator=generator, device=device, dtype=draw_dtype) * 2 - 1) * scale
    elif dist == "weight":  # around 1, as learned norm weights are
        values = 1 + torch.randn(shape, generator=generator, device=device, dtype=draw_dtype) * (0.1 * scale)
    else:
        values = torch.randn(shape, generator=generator, device=device, dtype=draw_dtype) * scale
    tensor.copy_(values)
    return tensor


def randint_bounds(spec: dict, dtype: torch.dtype) -> tuple[int, int]:
    """[low, high) of a randint draw: the spec's, else int8's whole range (quantized values), else {0, 1}."""
    default_low, default_high = (-128, 128) if dtype == torch.int8 else (0, 2)
    low, high = spec.get("low", default_low), spec.get("high", default_high)
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        if low < info.min or high - 1 > info.max or low >= high:
            raise KernelPilotError(f"randint range [{low}, {high}) is empty or does not fit {spec['dtype']}")
    return low, high


def literal_value(value: Any) -> Any:
    """A case's non-tensor argument as the op receives it: `torch.<dtype>` (an out_dtype) becomes that dtype."""
    if not (isinstance(value, str) and value.startswith(DTYPE_LITERAL_PREFIX)):
        return value
    name = value.removeprefix(DTYPE_LITERAL_PREFIX)
    if name not in DTYPES:
        raise KernelPilotError(f"argument {value!r} names no dtype the harness knows ({', '.join(DTYPES)})")
    return DTYPES[name]


def _generator(seed: int, device: str | torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def make_args(case: Case, seed: int, device: str | torch.device) -> dict[str, Any]:
    """Fresh arguments for one trial: new buffers, new random values."""
    generator = _generator(seed, device)
    values: dict[str, Any] = {}
    for name, spec in case.args.items():
        values[name] = (fill_(empty_tensor(spec, device), spec, generator) if isinstance(spec, dict)
                        else literal_value(spec))
    return values


def zero_args(case: Case, device: str | torch.device) -> dict[str, Any]:
    """The case's arguments with zeros for values: what a compile needs (no value reaches the compiler), made at
    memset speed rather than a random draw's, which takes over a minute for W's largest CPU tensors."""
    return {name: empty_tensor(spec, device).zero_() if isinstance(spec, dict) else literal_value(spec)
            for name, spec in case.args.items()}


def refill_args(case: Case, values: dict[str, Any], seed: int) -> dict[str, Any]:
    """New random values in the SAME buffers, so a cache keyed on data pointers returns stale results."""
    tensors = [values[name] for name, spec in case.args.items() if isinstance(spec, dict)]
    if tensors:
        generator = _generator(seed, tensors[0].device)
        for name, spec in case.tensor_args().items():
            fill_(values[name], spec, generator)
    return values


def upcast(values: dict[str, Any], dtype: torch.dtype) -> dict[str, Any]:
    """Copies for the reference: floating tensors in the reference dtype, everything else as is."""
    return {name: (v.detach().to(dtype).clone() if isinstance(v, torch.Tensor) and v.dtype.is_floating_point
                   else v.clone() if isinstance(v, torch.Tensor) else v)
            for name, v in values.items()}


def clone_strided(tensor: torch.Tensor) -> torch.Tensor:
    """A copy with the same strides, gaps included (Tensor.clone makes a gapped view contiguous)."""
    copy = torch.empty_strided(tensor.size(), tensor.stride(), dtype=tensor.dtype, device=tensor.device)
    return copy.copy_(tensor)


def clone_args(values: dict[str, Any]) -> dict[str, Any]:
    return {name: clone_strided(v) if isinstance(v, torch.Tensor) else v for name, v in values.items()}


def bytes_moved(values: dict[str, Any], outputs: dict[str, torch.Tensor], reads: list[str], writes: list[str]) -> int:
    """The task's bytes model: each named input read once, each named output written once."""
    total = 0
    for name in reads:
        tensor = values.get(name)
        if isinstance(tensor, torch.Tensor):
            total += tensor.numel() * tensor.element_size()
    for name in writes:
        tensor = outputs.get(name, values.get(name))
        if isinstance(tensor, torch.Tensor):
            total += tensor.numel() * tensor.element_size()
    return total
