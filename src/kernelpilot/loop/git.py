"""The few git questions the loop asks, through the real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kernelpilot.errors import KernelPilotError


def _run(project: str | Path, args: tuple[str, ...], timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise KernelPilotError("git is not installed") from None


def _last_error(result: subprocess.CompletedProcess, fallback: str) -> str:
    return (result.stderr.strip().splitlines() or [fallback])[-1]


def git(project: str | Path, *args: str, check: bool = True) -> str:
    result = _run(project, args)
    if check and result.returncode != 0:
        raise KernelPilotError(f"git {' '.join(args)} failed in {project}: {_last_error(result, 'no message')}")
    return result.stdout.strip()


def toplevel(path: str | Path) -> Path:
    result = _run(path, ("rev-parse", "--show-toplevel"))
    if result.returncode != 0:
        raise KernelPilotError(f"{path} is not inside a git repository")
    return Path(result.stdout.strip())


def head_commit(project: str | Path) -> str:
    result = _run(project, ("rev-parse", "--verify", "--quiet", "HEAD"))
    if result.returncode != 0:
        raise KernelPilotError(f"{project} has no commit yet: commit something before starting a loop")
    return result.stdout.strip()


def current_branch(project: str | Path) -> str:
    return git(project, "rev-parse", "--abbrev-ref", "HEAD")


def dirty_paths(project: str | Path) -> list[str]:
    """Uncommitted changes and untracked files, .humanize/ excepted (the loop's own working files)."""
    lines = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    paths = [line[3:] for line in lines if line[3:]]
    return [path for path in paths if not path.strip('"').startswith(".humanize/")]


def log_since(project: str | Path, base: str, limit: int = 50) -> str:
    return git(project, "log", "--oneline", "--no-decorate", f"-{limit}", f"{base}..HEAD", check=False)


def diff_stat_since(project: str | Path, base: str) -> str:
    return git(project, "diff", "--stat", f"{base}..HEAD", check=False)


def exclude_humanize(project: str | Path) -> None:
    """Keep .humanize/ out of git without touching a tracked file: .git/info/exclude is the repository's own."""
    exclude = Path(git(project, "rev-parse", "--git-path", "info/exclude"))
    if not exclude.is_absolute():
        exclude = Path(project) / exclude
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if ".humanize/" not in existing.splitlines():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text(existing + ("" if existing.endswith("\n") or not existing else "\n") + ".humanize/\n",
                           encoding="utf-8")


def push(project: str | Path) -> str | None:
    """Push the current branch; None when it worked, else git's last error line."""
    result = _run(project, ("push",), timeout=300)
    return None if result.returncode == 0 else _last_error(result, "failed")
