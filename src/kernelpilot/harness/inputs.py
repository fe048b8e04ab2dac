"""Building a case's arguments: seeded random tensors with the shapes, dtypes and strides W names."""

from __future__ import annotations

from typing import Any

import torch

from kernelpilot.harness.spec import Case

DTYPES = {
    "float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
    "int32": torch.int32, "int64": torch.int64,
}


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
        values = torch.randint(spec.get("low", 0), spec.get("high", 2), shape, generator=generator, device=device)
    elif dist == "uniform":
        values = (torch.rand(shape, generator=generator, device=device, dtype=draw_dtype) * 2 - 1) * scale
    elif dist == "weight":  # around 1, as learned norm weights are
        values = 1 + torch.randn(shape, generator=generator, device=device, dtype=draw_dtype) * (0.1 * scale)
    else:
        values = torch.randn(shape, generator=generator, device=device, dtype=draw_dtype) * scale
    tensor.copy_(values)
    return tensor


def _generator(seed: int, device: str | torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def make_args(case: Case, seed: int, device: str | torch.device) -> dict[str, Any]:
    """Fresh arguments for one trial: new buffers, new random values."""
    generator = _generator(seed, device)
    values: dict[str, Any] = {}
    for name, spec in case.args.items():
        values[name] = fill_(empty_tensor(spec, device), spec, generator) if isinstance(spec, dict) else spec
    return values


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
