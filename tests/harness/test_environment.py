"""The commit stamp of a result row identifies the code even when the run was made before the code was committed,
and the harness's own writes during a run (ledgers, benchmarks, docs/results.md) do not change it."""

import subprocess

from kernelpilot.harness.environment import code_tree_id, git_commit


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def committed_repo(path):
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "kernel.py").write_text("v1\n")
    (path / "task" / "ledgers").mkdir(parents=True)
    (path / "task" / "ledgers" / "attempts.jsonl").write_text("{}\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "v1")
    return git(path, "rev-parse", "--short=12", "HEAD")


def test_a_dirty_stamp_names_the_code_the_later_commit_has(tmp_path):
    head = committed_repo(tmp_path)
    assert git_commit(tmp_path) == head

    (tmp_path / "kernel.py").write_text("v2\n")
    (tmp_path / "new_candidate.py").write_text("untracked, but part of what ran\n")
    stamp = git_commit(tmp_path)
    assert stamp.startswith(f"{head}-dirty+")
    assert git(tmp_path, "status", "--porcelain") == "M kernel.py\n?? new_candidate.py"  # index untouched

    (tmp_path / "task" / "ledgers" / "attempts.jsonl").write_text("{}\n{}\n")  # the run appends an attempt
    assert git_commit(tmp_path) == stamp

    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "v2")
    assert stamp.endswith("+" + code_tree_id(tmp_path, "HEAD"))
    (tmp_path / "task" / "ledgers" / "attempts.jsonl").write_text("{}\n{}\n{}\n")  # a later run, uncommitted
    earlier = code_tree_id(tmp_path, "HEAD~1")  # its ledger differs from both the file and HEAD's
    assert earlier is not None and earlier != code_tree_id(tmp_path, "HEAD")


def test_ledger_writes_alone_leave_the_stamp_clean(tmp_path):
    head = committed_repo(tmp_path)
    (tmp_path / "task" / "ledgers" / "attempts.jsonl").write_text("{}\n{}\n")
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "docs" / "results.md").write_text("# Results\n")
    assert git_commit(tmp_path) == head
