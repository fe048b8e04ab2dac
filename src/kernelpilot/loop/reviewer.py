"""Running the independent reviewer: `codex exec`, `claude -p`, or any command, with the prompt on stdin.

The reviewer runs in its own process group, which is killed whole at the timeout (and swept after a normal exit),
so no grandchild outlives a review. A reviewer that is itself an agent gets our hooks switched off, so a review can
never re-enter the loop: KERNELPILOT_REVIEWER=1 makes our hook exit at once, and each agent CLI is also told to
load no hooks at all (Claude Code: disableAllHooks; Codex: every hook feature name the installed CLI accepts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.loop import layout
from kernelpilot.loop.hook import REVIEWER_ENV

# Codex has renamed its hooks feature across releases; the probe keeps those the installed CLI accepts.
CODEX_HOOK_FEATURES = ("hooks", "codex_hooks", "plugin_hooks")
VERDICTS = ("COMPLETE", "STOP")
MAINLINE = re.compile(r"^\W*MAINLINE\W*:?\s*\W*(ADVANCED|STALLED|REGRESSED)\b", re.I | re.M)
FINDING = re.compile(r"^\s*(?:[-*]\s*)?\[P[0-3]\]", re.M)
KILL_GRACE_S = 3.0


@dataclass
class ReviewRun:
    output: str
    returncode: int | None
    timed_out: bool
    seconds: float

    @property
    def failure(self) -> str | None:
        """Why the run gave no usable review, or None."""
        if self.timed_out:
            return f"the reviewer timed out after {self.seconds:.0f} s (its process group was killed)"
        if self.returncode != 0:
            return f"the reviewer exited with status {self.returncode}"
        if not self.output.strip():
            return "the reviewer printed nothing"
        return None


@lru_cache(maxsize=None)
def codex_hook_features(codex: str) -> tuple[str, ...]:
    """The hook feature names `codex --disable` accepts here (an unknown name makes codex fail at once)."""
    accepted = []
    for name in CODEX_HOOK_FEATURES:
        try:
            probe = subprocess.run([codex, "--disable", name, "features", "list"], capture_output=True, text=True,
                                   timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and not _feature_removed(probe.stdout, name):
            accepted.append(name)
    return tuple(accepted)


def _feature_removed(listing: str, name: str) -> bool:
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            return "removed" in fields[1:-1]
    return False


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise KernelPilotError(f"the reviewer needs `{name}` on PATH, and it is not there")
    return path


def review_argv(config: dict, code_review: bool, base_commit: str) -> list[str]:
    """The reviewer's command line; the prompt always comes on stdin."""
    kind = config["reviewer"]
    if kind == "command":
        argv = (config.get("code_review_command") if code_review else None) or config.get("reviewer_command")
        if not argv:
            raise KernelPilotError("reviewer 'command' needs reviewer_command in the loop settings")
        return list(argv)
    if kind == "codex":
        codex = _executable("codex")
        disable = [arg for name in codex_hook_features(codex) for arg in ("--disable", name)]
        model = ["-m", config["codex_model"]] if config.get("codex_model") else []
        if code_review:
            return [codex, "review", *disable, "--base", base_commit, "-"]
        effort = ["-c", f"model_reasoning_effort={json.dumps(config['codex_effort'])}"] if config.get(
            "codex_effort") else []
        return [codex, "exec", *disable, *model, *effort, "--sandbox", "read-only", "-"]
    claude = _executable("claude")
    model = ["--model", config["claude_model"]] if config.get("claude_model") else []
    return [claude, "-p", "--settings", json.dumps({"disableAllHooks": True}), *model,
            "--allowedTools", "Read,Grep,Glob,Bash(git log:*),Bash(git diff:*),Bash(git show:*)"]


def run_review(argv: list[str], prompt: str, cwd: Path, timeout: float, loop_dir: Path, name: str,
               extra_env: dict[str, str]) -> ReviewRun:
    """Run one review; its prompt, output and stderr are kept as <name>.{prompt,out,err} in the loop folder."""
    prompt_path, out_path, err_path = (loop_dir / f"{name}.{suffix}" for suffix in ("prompt.md", "out", "err"))
    prompt_path.write_text(prompt, encoding="utf-8")
    env = {**os.environ, REVIEWER_ENV: "1", **extra_env}
    started = time.monotonic()
    with open(prompt_path, "rb") as stdin, open(out_path, "wb") as stdout, open(err_path, "wb") as stderr:
        try:
            process = subprocess.Popen(argv, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr, env=env,
                                       start_new_session=True)
        except OSError as exc:
            stderr.write(f"cannot start {argv[0]}: {exc}\n".encode())
            return ReviewRun("", 127, False, 0.0)
        pid_file = loop_dir / layout.REVIEWER_PID
        pid_file.write_text(str(process.pid), encoding="utf-8")
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
        finally:
            kill_group(process.pid, signal.SIGKILL)  # stragglers left behind by a finished reviewer, too
            process.wait()
            pid_file.unlink(missing_ok=True)
    output = out_path.read_text(encoding="utf-8", errors="replace")
    return ReviewRun(output, None if timed_out else process.returncode, timed_out, time.monotonic() - started)


def kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_verdict(text: str) -> tuple[str | None, str | None]:
    """(COMPLETE|STOP|None from the last non-empty line, ADVANCED|STALLED|REGRESSED|None from the MAINLINE line)."""
    final = re.sub(r"[^A-Z]", "", last_line(text).upper())
    verdict = final if final in VERDICTS else None
    mainline = MAINLINE.findall(text)
    return verdict, (mainline[-1].upper() if mainline else None)


def has_findings(text: str) -> bool:
    """A code review is clean when its last line says CLEAN, or when it lists no [P0]..[P3] finding and does not
    end with FINDINGS."""
    final = re.sub(r"[^A-Z]", "", last_line(text).upper())
    if final == "CLEAN":
        return False
    return final == "FINDINGS" or bool(FINDING.search(text))
