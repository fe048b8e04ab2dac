"""`task launch` and its per-task wrappers, on a real temporary git repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TASK = "h200_demo__multi_shape"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository whose main branch has one task and whose `bare` branch has none."""
    root = tmp_path / "repo"
    (root / "kernels" / TASK).mkdir(parents=True)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / ".gitignore").write_text(".humanize/\n")
    (root / "README.md").write_text("demo\n")
    git(root, "add", "README.md", ".gitignore")
    git(root, "commit", "-qm", "start")
    git(root, "branch", "bare")
    (root / "kernels" / TASK / "task.yaml").write_text("name: demo\n")
    (root / "kernels" / TASK / "prompt.md").write_text("# Task: demo\n\nK, R and W of the demo task.\n")
    git(root, "add", "kernels")
    git(root, "commit", "-qm", "task")
    return root


def launch(repo: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "KDA_WORKTREE_BASE": str(tmp_path / "trees"),
                "KDA_RUN_ID": "r1", "KDA_NO_CLAUDE": "1", **env}
    return subprocess.run([sys.executable, "-m", "kernelpilot", "task", "launch", TASK], cwd=repo, env=full_env,
                          capture_output=True, text=True)


def test_launch_makes_a_worktree_on_a_new_branch_with_the_draft(repo, tmp_path):
    result = launch(repo, tmp_path)
    assert result.returncode == 0, result.stderr
    worktree = tmp_path / "trees" / f"{TASK}-r1"
    assert str(worktree) in git(repo, "worktree", "list")
    assert git(worktree, "rev-parse", "--abbrev-ref", "HEAD") == f"kda/{TASK}/r1"
    assert git(worktree, "rev-parse", "HEAD") == git(repo, "rev-parse", "main")
    draft = (worktree / ".humanize" / "kernel-agent" / "draft.md").read_text()
    assert "K, R and W of the demo task." in draft and f"Task folder: kernels/{TASK}" in draft
    assert git(worktree, "status", "--porcelain") == ""
    for line in ("kernelpilot plan gen --input ../../.humanize/kernel-agent/draft.md --output plan.md --task .",
                 "kernelpilot loop start plan.md --task .", f"cd {worktree / 'kernels' / TASK}"):
        assert line in result.stdout


def test_launch_refuses_a_base_branch_without_the_task(repo, tmp_path):
    result = launch(repo, tmp_path, KDA_BASE_BRANCH="bare")
    assert result.returncode == 2
    assert f"base branch 'bare' has no kernels/{TASK}/" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "trees" / f"{TASK}-r1").exists()
    assert "kda/" not in git(repo, "branch", "--list")


def test_a_second_launch_with_the_same_run_id_is_refused(repo, tmp_path):
    assert launch(repo, tmp_path).returncode == 0
    again = launch(repo, tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_the_codex_bypass_writes_a_loop_config_the_loop_accepts(repo, tmp_path):
    assert launch(repo, tmp_path, HUMANIZE_CODEX_BYPASS_SANDBOX="1").returncode == 0
    worktree = tmp_path / "trees" / f"{TASK}-r1"
    from kernelpilot.loop.config import load_config

    config = load_config(worktree)
    assert config["reviewer"] == "command"
    assert "--dangerously-bypass-approvals-and-sandbox" in config["reviewer_command"]


def test_launch_starts_the_agent_in_the_task_folder_with_model_and_effort(repo, tmp_path):
    # The agent's stand-in records how it was started; the real claude needs a login this machine lacks.
    record = tmp_path / "agent.json"
    agent = tmp_path / "agent"
    agent.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                     f"json.dump({{'argv': sys.argv[1:], 'cwd': os.getcwd()}}, open({str(record)!r}, 'w'))\n")
    agent.chmod(0o755)
    result = launch(repo, tmp_path, KDA_NO_CLAUDE="", CLAUDE_BIN=str(agent), CLAUDE_MODEL="opus",
                    CLAUDE_EFFORT="high")
    assert result.returncode == 0, result.stderr
    started = json.loads(record.read_text())
    assert started["cwd"] == str(tmp_path / "trees" / f"{TASK}-r1" / "kernels" / TASK)
    assert started["argv"][:4] == ["--model", "opus", "--effort", "high"]
    assert "kernel-agent-loop" in started["argv"][4] and "/humanize:start-rlcr-loop plan.md" in started["argv"][4]


def test_every_bundled_task_has_one_launch_wrapper():
    """kNN_<task>.sh, numbered in the order the tasks were added (a new task takes the next free number, so the
    wrappers people know keep their names)."""
    tasks = sorted(path.parent.name for path in (REPO / "kernels").glob("*/task.yaml"))
    files = sorted((REPO / "scripts" / "launch_kernels").glob("k[0-9][0-9]_*.sh"))
    assert sorted(w.name[4:-3] for w in files) == tasks  # a list, so a second wrapper for one task shows
    wrappers = {w.name[4:-3]: w for w in files}
    numbers = [w.name[:3] for w in wrappers.values()]
    assert len(set(numbers)) == len(numbers), sorted(numbers)
    for task, wrapper in wrappers.items():
        assert os.access(wrapper, os.X_OK)
        assert f'launch.sh" {task} "$@"' in wrapper.read_text()
    assert os.access(REPO / "scripts" / "launch_kernels" / "launch.sh", os.X_OK)


def test_the_wrapper_launches_its_task(tmp_path):
    """The bundled task's own wrapper, run from this checkout, on a throwaway clone of it."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(REPO), str(clone))
    wrapper = sorted((clone / "scripts" / "launch_kernels").glob("k01_*.sh"))[0]
    task = wrapper.name[4:-3]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "KERNELPILOT_PYTHON": sys.executable,
           "KDA_WORKTREE_BASE": str(tmp_path / "trees"), "KDA_RUN_ID": "w1", "KDA_NO_CLAUDE": "1"}
    result = subprocess.run([str(wrapper)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "trees" / f"{task}-w1" / ".humanize" / "kernel-agent" / "draft.md").is_file()
