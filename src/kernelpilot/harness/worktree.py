"""`task launch`: an isolated git worktree for one bundled task, on a new branch, with the loop's draft written
from the task's prompt, and the commands (or a Claude Code session) that take it from plan to loop.

Overrides come from the environment so that the per-task wrappers in scripts/launch_kernels/ stay one line:
KDA_BASE_BRANCH, KDA_WORKTREE_BASE, KDA_RUN_ID, KDA_NO_CLAUDE, CLAUDE_BIN, CLAUDE_MODEL, CLAUDE_EFFORT,
HUMANIZE_CODEX_BYPASS_SANDBOX.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_text
from kernelpilot.loop.git import git, toplevel

TASKS_FOLDER = "kernels"
DRAFT = Path(".humanize") / "kernel-agent" / "draft.md"
LOOP_CONFIG = Path(".humanize") / "config.json"
BYPASS_REVIEWER = ["codex", "exec", "--dangerously-bypass-approvals-and-sandbox", "-"]


@dataclass
class Launch:
    task: str
    branch: str
    base: str
    worktree: Path
    project: Path  # the task folder inside the worktree: the agent's working directory
    draft: Path
    commands: list[str]
    agent: list[str] | None  # the Claude Code session to start, or None for prepare-only


def _flag(env: dict, name: str) -> bool:
    return env.get(name, "").strip().lower() not in ("", "0", "false", "no")


def launch(task: str, repo: Path, env: dict | None = None) -> Launch:
    env = dict(os.environ if env is None else env)
    repo = toplevel(repo)
    name = Path(task.rstrip("/")).name
    base = env.get("KDA_BASE_BRANCH") or git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    if not git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False):
        raise KernelPilotError(f"base branch {base!r} does not exist in {repo}")
    task_yaml = f"{TASKS_FOLDER}/{name}/task.yaml"
    if not git(repo, "ls-tree", "--name-only", base, task_yaml, check=False):
        raise KernelPilotError(f"base branch {base!r} has no {TASKS_FOLDER}/{name}/ (no {task_yaml} in its tree); "
                               f"set KDA_BASE_BRANCH to a branch that has the task")
    run_id = env.get("KDA_RUN_ID") or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    branch = f"kda/{name}/{run_id}"
    if git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
        raise KernelPilotError(f"branch {branch} already exists; set KDA_RUN_ID to a new run id")
    worktree_base = Path(env.get("KDA_WORKTREE_BASE") or repo.parent / f"{repo.name}-worktrees")
    worktree = (worktree_base / f"{name}-{run_id}").resolve()
    if worktree.exists():
        raise KernelPilotError(f"{worktree} already exists; set KDA_RUN_ID or KDA_WORKTREE_BASE")
    worktree_base.mkdir(parents=True, exist_ok=True)
    git(repo, "worktree", "add", "--quiet", "-b", branch, str(worktree), base)
    project = worktree / TASKS_FOLDER / name
    draft = worktree / DRAFT
    atomic_write_text(draft, _draft(name, project))
    if _flag(env, "HUMANIZE_CODEX_BYPASS_SANDBOX"):
        atomic_write_text(worktree / LOOP_CONFIG, json.dumps({"reviewer": "command",
                                                              "reviewer_command": BYPASS_REVIEWER}, indent=2) + "\n")
    draft_arg = os.path.relpath(draft, project)
    commands = [f"cd {shlex.quote(str(project))}",
                f"kernelpilot plan gen --input {draft_arg} --output plan.md --task .",
                "kernelpilot plan validate plan.md --task .",
                f"git add plan.md && git commit -m {shlex.quote('Plan for ' + name)}",
                "kernelpilot loop start plan.md --task ."]
    agent = None if _flag(env, "KDA_NO_CLAUDE") else _claude(env, draft_arg)
    return Launch(name, branch, base, worktree, project, draft, commands, agent)


def _draft(name: str, project: Path) -> str:
    prompt = project / "prompt.md"
    if not prompt.is_file():
        raise KernelPilotError(f"{prompt} not found: render it with `kernelpilot task render {project}`")
    return (f"# Draft: optimize {name}\n\n"
            "Goal: make every case of W faster than the target baselines on the task's GPU while staying correct "
            "against R on every case; dispatch per shape bucket only where a candidate wins.\n\n"
            f"Task folder: {TASKS_FOLDER}/{name}\n\n"
            + prompt.read_text(encoding="utf-8"))


def _claude(env: dict, draft_arg: str) -> list[str]:
    command = [env.get("CLAUDE_BIN") or "claude"]
    if env.get("CLAUDE_MODEL"):
        command += ["--model", env["CLAUDE_MODEL"]]
    if env.get("CLAUDE_EFFORT"):
        command += ["--effort", env["CLAUDE_EFFORT"]]
    prompt = (f"Use the kernel-agent-loop skill on the task in this folder. Run /humanize:gen-plan --input "
              f"{draft_arg} --output plan.md --task . then complete, validate and commit the plan, and start the "
              "loop with /humanize:start-rlcr-loop plan.md.")
    return command + [prompt]
