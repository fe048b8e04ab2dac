"""The commit stamp of a result row identifies the code even when the run was made before the code was committed."""

import subprocess

from kernelpilot.harness.environment import git_commit


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_a_dirty_stamp_names_the_tree_the_later_commit_has(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "kernel.py").write_text("v1\n")
    git(tmp_path, "add", "kernel.py")
    git(tmp_path, "commit", "-qm", "v1")
    head = git(tmp_path, "rev-parse", "--short=12", "HEAD")
    assert git_commit(tmp_path) == head

    (tmp_path / "kernel.py").write_text("v2\n")
    (tmp_path / "new_candidate.py").write_text("untracked, but part of what ran\n")
    stamp = git_commit(tmp_path)
    assert stamp.startswith(f"{head}-dirty+")
    assert git(tmp_path, "status", "--porcelain") == "M kernel.py\n?? new_candidate.py"  # index untouched

    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "v2")
    assert stamp.endswith("+" + git(tmp_path, "rev-parse", "--short=12", "HEAD^{tree}"))
