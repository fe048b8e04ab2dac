"""Where a norm_infer call's host time goes on this machine: a Python call, an allocation, a bare Triton JIT launch,
the compiled kernel's C launcher called several ways, the cached launcher and our wrappers (as Python and as
replayed by kernelpilot.replay), each timed back to back (median µs per call over 7 reps)."""

import importlib.util
import sys
from pathlib import Path

import torch

from kernelpilot.harness import environment, timing
from kernelpilot.launch import CachedLauncher, launcher_head
from kernelpilot.replay import planned

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"


def per_call_us(call) -> float:
    return timing.host_cost(call, calls_per_rep=200).p50


def load(name):
    spec = importlib.util.spec_from_file_location(name, TASK / "candidates" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launcher_figures(kernel, args, grid, warps):
    """The C launcher with tensors (it asks the driver about every pointer), with the pointers as integers, and
    with those integers read per call; then the cached launcher around it."""
    compiled = kernel[grid](*args, num_warps=warps)
    launcher = compiled.run
    from triton.runtime import driver

    stream = driver.active.get_current_stream(driver.active.get_current_device())
    head = launcher_head(compiled)
    pointers = [i for i, kind in enumerate(compiled.src.signature.values()) if kind.startswith("*")]
    as_ints = list(args)
    for i in pointers:
        as_ints[i] = args[i].data_ptr()

    def ints_per_call():
        values = list(args)
        for i in pointers:
            values[i] = values[i].data_ptr()
        launcher.launch(grid[0], 1, 1, stream, *head, *values)

    cached = CachedLauncher(kernel, pdl=False)
    cached("k", grid, args[:-1], num_warps=warps)
    return {
        "Triton JIT launch kernel[grid](...)": per_call_us(lambda: kernel[grid](*args, num_warps=warps)),
        "CompiledKernel.run (prebound)": per_call_us(
            lambda: launcher(grid[0], 1, 1, stream, compiled.function, compiled.packed_metadata, None, None, None,
                             *args)),
        "C launcher, tensor arguments": per_call_us(lambda: launcher.launch(grid[0], 1, 1, stream, *head, *args)),
        "C launcher, pointers as ints": per_call_us(lambda: launcher.launch(grid[0], 1, 1, stream, *head, *as_ints)),
        "C launcher, data_ptr() per call": per_call_us(ints_per_call),
        "current stream lookup": per_call_us(lambda: driver.active.get_current_stream(
            driver.active.get_current_device())),
        "CachedLauncher call": per_call_us(lambda: cached("k", grid, args[:-1], num_warps=warps)),
    }


def main() -> int:
    print(environment.header(environment.collect(), "scripts/gpu/host_cost_breakdown.py"))
    sys.path.insert(0, str(TASK / "candidates"))
    import _norm_rows

    x = torch.randn(1320, 128, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(128, device="cuda", dtype=torch.bfloat16)
    y = torch.empty_like(x)
    row_norm = _norm_rows.RowNorm(_norm_rows.narrow_packed_tiles)
    args = (x, y, w, x, 1320, 128, 128, 1e-6, 128, 128, 16, True, True, False, False, False)  # LOADS_FIRST, PDL off
    figures = {
        "python call of a no-op": per_call_us(lambda: None),
        "torch.empty_like": per_call_us(lambda: torch.empty_like(x)),
        **launcher_figures(_norm_rows._norm_rows_kernel, args, (83,), 8),
        "RowNorm wrapper (triton_rows)": per_call_us(lambda: row_norm(x, w, None, 1e-6, True, None)),
    }
    replayed = planned(row_norm)
    figures["RowNorm wrapper replayed"] = per_call_us(lambda: replayed(x, w, None, 1e-6, True, None))
    pair = load("triton_rows_pair")
    figures["triton_rows_pair entry (replayed)"] = per_call_us(lambda: pair.triton_one_pass_rms_norm(x, w))
    try:
        cuda_rows = load("cuda_rows")
        figures["cuda_rows (C++ extension)"] = per_call_us(lambda: cuda_rows.triton_one_pass_rms_norm(x, w))
        figures["extension norm_rows alone"] = per_call_us(
            lambda: cuda_rows._norm_rows(x, w, None, 1e-6, True, None))
    except Exception as exc:  # report, do not hide: the build may fail on a machine without nvcc
        print(f"cuda_rows unavailable: {type(exc).__name__}: {exc}")
    for name, value in figures.items():
        print(f"{name:40s} {value:7.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
