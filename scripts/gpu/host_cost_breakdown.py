"""Where a norm_infer call's host time goes on this machine: a Python call, an allocation, a bare Triton JIT launch,
the cached launcher, our wrappers and SGLang's, each timed back to back (median µs per call over 7 reps)."""

import importlib.util
import sys
from pathlib import Path

import torch

from kernelpilot.harness import environment, timing

TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"


def per_call_us(call) -> float:
    return timing.host_cost(call, calls_per_rep=200).p50


def load(name):
    spec = importlib.util.spec_from_file_location(name, TASK / "candidates" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    print(environment.header(environment.collect(), "scripts/gpu/host_cost_breakdown.py"))
    sys.path.insert(0, str(TASK / "candidates"))
    import _norm_rows

    x = torch.randn(1320, 128, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(128, device="cuda", dtype=torch.bfloat16)
    y = torch.empty_like(x)
    row_norm = _norm_rows.RowNorm(_norm_rows.narrow_packed_tiles)
    args = (x, y, w, x, 1320, 128, 128, 1e-6, 128, 128, 16, True, True, False)
    row_norm(x, w, None, 1e-6, True, None)
    compiled = next(iter(row_norm.launch.compiled.values()))
    from triton.runtime import driver

    stream = driver.active.get_current_stream(driver.active.get_current_device())
    figures = {
        "python call of a no-op": per_call_us(lambda: None),
        "torch.empty_like": per_call_us(lambda: torch.empty_like(x)),
        "Triton JIT launch kernel[grid](...)": per_call_us(
            lambda: _norm_rows._norm_rows_kernel[(83,)](*args, num_warps=8)),
        "CompiledKernel.run (prebound)": per_call_us(
            lambda: compiled.run(83, 1, 1, stream, compiled.function, compiled.packed_metadata, None, None, None,
                                 *args)),
        "RowNorm wrapper (triton_rows)": per_call_us(lambda: row_norm(x, w, None, 1e-6, True, None)),
    }
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
