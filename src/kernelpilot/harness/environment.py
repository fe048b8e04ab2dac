"""The environment every result row carries: GPU, SM count, driver, CUDA, torch, triton, clocks, commit."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from pathlib import Path

ENV_COLUMNS = ("gpu", "sm_count", "driver", "cuda", "torch", "triton", "sm_clock_mhz", "mem_clock_mhz")
PROVENANCE_COLUMNS = (*ENV_COLUMNS, "commit")  # what every result row must name to stand as evidence


def header(env: dict, script: str) -> str:
    """The first line of a GPU script's committed output: what produced the figures below it, and on what."""
    return (f"# {script} on {env['gpu']}, driver {env['driver']}, CUDA {env['cuda']}, torch {env['torch']}, "
            f"triton {env['triton']}")


def _nvidia_smi(query: str) -> list[str]:
    try:
        result = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0 or not result.stdout.strip():
        return []
    return [field.strip() for field in result.stdout.strip().splitlines()[0].split(",")]


def collect(device_index: int = 0) -> dict:
    """What this process runs on. On a machine without CUDA the GPU fields say so instead of guessing."""
    import torch

    env = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda or "none",
           "host": platform.node()}
    try:
        import triton

        env["triton"] = triton.__version__
    except ImportError:
        env["triton"] = "none"
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(device_index)
        env.update(gpu=props.name, sm_count=props.multi_processor_count, capability=f"{props.major}.{props.minor}",
                   l2_bytes=getattr(props, "L2_cache_size", 0), memory_bytes=props.total_memory)
        smi = _nvidia_smi("driver_version,clocks.sm,clocks.mem,clocks.max.sm")
        if smi:
            env.update(driver=smi[0], sm_clock_mhz=smi[1], mem_clock_mhz=smi[2], max_sm_clock_mhz=smi[3])
    else:
        env.update(gpu="cpu", sm_count=0)
    for column in ENV_COLUMNS:
        env.setdefault(column, "unknown")
    return env


# What the harness itself writes while it runs: left out of a stamp's code id, so that rows timed after the run
# has already appended to a ledger still carry the id of the code they timed.
HARNESS_OUTPUTS = (":(glob)**/ledgers/**", ":(glob)**/benchmarks/**", ":(glob)docs/results.md", ":(glob)docs/img/**")


def git_commit(path: Path) -> str | None:
    """HEAD's short hash, and where the code (the files but the harness's own outputs) differs from HEAD's,
    `-dirty+` and the code's tree id (`code_tree_id`): a run made before its code was committed, or on a copy whose
    .git is stale, can then be matched to the commit with `code_tree_id(path, commit)`."""
    try:
        result = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=path, capture_output=True, text=True,
                                timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    code = code_tree_id(path)
    dirty = code is None or code != code_tree_id(path, "HEAD")
    return result.stdout.strip() + (f"-dirty+{code or 'unknown'}" if dirty else "")


def code_tree_id(path: Path, commit: str | None = None) -> str | None:
    """The short git tree id of the repository's files without HARNESS_OUTPUTS: of the working tree as it is now
    (untracked files included, ignored ones not) or of `commit`. Built in a scratch index, so the repository's
    own index is left alone."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(scratch, "index")}
        try:
            top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            stage = ["git", "read-tree", commit] if commit else ["git", "add", "-A"]
            subprocess.run(stage, cwd=top, env=env, capture_output=True, timeout=120, check=True)
            # -f: a commit's outputs may differ from both the files and HEAD, which a plain `rm --cached` refuses
            subprocess.run(["git", "rm", "-r", "--cached", "-f", "-q", "--ignore-unmatch", "--", *HARNESS_OUTPUTS],
                           cwd=top, env=env, capture_output=True, timeout=60, check=True)
            tree = subprocess.run(["git", "write-tree"], cwd=top, env=env, capture_output=True, text=True,
                                  timeout=60, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    return tree[:12]
