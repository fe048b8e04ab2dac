"""Task folders the harness tests run on, importable by name (a conftest's values are not: under
--import-mode=importlib `from conftest import ...` finds whichever conftest comes first on sys.path)."""

from pathlib import Path

NORM_TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"


def timed_rows(task, run_id, case_ids, figures, gpu="NVIDIA H200", **fields):
    """results.csv rows as a GPU run writes them: for each small case in `case_ids`, one per implementation in
    `figures` (name -> (device µs, host µs)); torch_eager is a baseline, the rest candidates."""
    from kernelpilot.harness import ledgers

    return [{"run_id": run_id, "timestamp": ledgers.now_iso(), "task": task.name, "op": case.op, "case": case.id,
             "impl": impl, "impl_kind": "baseline" if impl == "torch_eager" else "candidate", "correct": True,
             "device_us_p50": device_us, "host_us_p50": host_us, "gpu": gpu, "sm_count": 132,
             "commit": f"commit-of-{run_id}", **fields}
            for case in task.cases_for(interpret_only=True) if case.id in case_ids
            for impl, (device_us, host_us) in figures.items()]
