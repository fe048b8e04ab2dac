"""patches/sglang_kda_kernels.patch: a guarded `kda_kernels.install()` appended to SGLang's `python/sglang/__init__.py`.

The hunk keeps one line of context, the file's last, and no trailing context, so `git apply` anchors it at the end
of the file: the same patch applies to releases whose `__init__.py` differ above their closing `]`. Regenerating
takes `__init__.py` from each named release's wheel (or the installed SGLang), writes the patch from the newest, and
checks it with `git apply --check` against every one before the file is replaced.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_text
from kernelpilot.harness.sglang import find_source
from kernelpilot.loop.git import git

INIT = "python/sglang/__init__.py"
BLOCK = (Path(__file__).parent / "templates" / "sglang_init_block.py").read_text(encoding="utf-8")


def upstream_init(version: str) -> str:
    return find_source(version).read("sglang/__init__.py").decode("utf-8")


def render(upstream: str) -> str:
    """The patch that appends BLOCK to this `__init__.py`, as real git writes it."""
    with tempfile.TemporaryDirectory(prefix="kda-patch-") as folder:
        root = _lay_out(Path(folder), upstream)
        git(root, "add", INIT)
        (root / INIT).write_text(upstream + ("" if upstream.endswith("\n") else "\n") + BLOCK, encoding="utf-8")
        git(root, "diff", "-U1", "--no-color", "--output=kda.patch", "--", INIT)  # git() would strip the text
        return (root / "kda.patch").read_text(encoding="utf-8")


def apply_problem(patch: str, upstream: str) -> str | None:
    """Why `git apply --check` refuses the patch against this `__init__.py`, or None when it applies."""
    with tempfile.TemporaryDirectory(prefix="kda-patch-") as folder:
        root = _lay_out(Path(folder), upstream)
        (root / "kda.patch").write_text(patch, encoding="utf-8")
        result = subprocess.run(["git", "apply", "--check", "kda.patch"], cwd=root, capture_output=True, text=True)
        return None if result.returncode == 0 else (result.stderr.strip().splitlines() or ["git apply failed"])[-1]


def regenerate(versions: list[str], out: Path) -> Path:
    if not versions:
        raise KernelPilotError("no SGLang version to write the patch for (export a task first, or pass --sglang)")
    inits = {version: upstream_init(version) for version in versions}
    newest = max(versions, key=version_key)
    patch = render(inits[newest])
    for version, upstream in inits.items():
        problem = apply_problem(patch, upstream)
        if problem:
            raise KernelPilotError(f"the patch written from sglang {newest} does not apply to sglang {version}'s "
                                   f"__init__.py: {problem}")
    return atomic_write_text(out, patch)


def exported_layouts() -> list[str]:
    """Every SGLang version some exported function names a target for."""
    from kda_kernels._swap import families

    return sorted({version for module in families() for spec in module.FAMILY.functions.values()
                   for version in spec["targets"]})


def version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.+-]", version))


def _lay_out(root: Path, upstream: str) -> Path:
    git(root, "init", "-q")
    (root / INIT).parent.mkdir(parents=True)
    (root / INIT).write_text(upstream, encoding="utf-8")
    return root

