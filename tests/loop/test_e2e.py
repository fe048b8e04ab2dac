"""A real git repository driven through whole loops by the plugin's real hook entry and a scripted reviewer."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from kernelpilot.harness.ledgers import append_results


def start(kit, project: Path, reviewer_argv: list[str], *extra: str, session: str = "s1") -> dict:
    result = kit.kp("loop", "start", "plan.md", "--json", "--session-id", session, "--reviewer", "command",
                "--reviewer-command", " ".join(reviewer_argv), *extra, cwd=project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def state_of(project: Path, loop_id: str) -> dict:
    return json.loads((project / ".humanize" / "rlcr" / loop_id / "state.json").read_text())


def finish_round(kit, project: Path, loop_id: str, number: int, summary: str = "Cached the table.", change: str = "") -> None:
    folder = project / ".humanize" / "rlcr" / loop_id
    (folder / f"round-{number}-contract.md").write_text(f"Round {number}: T1 for AC-1.\n")
    (folder / f"round-{number}-summary.md").write_text(summary + "\n")
    (project / "src" / "widget.py").write_text(f"TABLE = [1, 2, 3]  # round {number} {change}\n")
    kit.git(project, "commit", "-qam", f"round {number}")


def write_task(project: Path, speedup: str) -> Path:
    task = project / "task"
    (task / "benchmarks").mkdir(parents=True)
    (task / "workloads.yaml").write_text("cases:\n  - {id: c1, op: norm}\n")
    row = {"run_id": "r1", "timestamp": "2025-01-01T00:00:00", "task": "task", "op": "norm", "case": "c1",
           "impl": "triton_v1", "impl_kind": "candidate", "correct": "True", "device_us_p50": 10, "device_us_p10": 9,
           "device_us_p90": 11, "host_us_p50": 5, "host_us_p10": 4, "host_us_p90": 6, "dobench_us_p50": 10,
           "bytes": 1000, "gbps": 3000, "copy_fraction": 0.7, "speedup_device": speedup, "speedup_host": 1.1,
           "speedup_dobench": 1.1, "target_us": 12, "meets_target": "True", "gpu": "H100", "sm_count": 132,
           "driver": "550.54", "cuda": "12.4", "torch": "2.11", "triton": "3.6", "sm_clock_mhz": 1980,
           "mem_clock_mhz": 2619, "commit": "abc123"}
    append_results(task, [row])
    return task


def test_whole_loop_blocked_gate_complete_code_review_finalize(kit, project, reviewer):
    argv, set_script, calls, _ = reviewer
    write_task(project, "1.21")
    plan = (project / "plan.md").read_text().replace("the widget's output is unchanged.",
                                                     "the widget's output is unchanged for case c1.")
    (project / "plan.md").write_text(plan)
    kit.git(project, "add", "-A")
    kit.git(project, "commit", "-qm", "task folder")
    set_script([
        {"output": "The cache is never invalidated.\nMAINLINE: ADVANCED\nNEEDS WORK\n"},
        {"output": "All criteria met.\nMAINLINE: ADVANCED\nCOMPLETE\n"},
        {"output": "- [P1] src/widget.py:1 the comment is stale\nFINDINGS\n"},
        {"output": "Nothing to fix.\nCLEAN\n"},
    ])
    loop = start(kit, project, argv, "--task", "task")
    loop_id = loop["loop_id"]
    assert "round 0 of 12" in loop["prompt"]

    finish_round(kit, project, loop_id, 0)
    blocked = kit.stop(project)
    assert blocked["decision"] == "block"
    assert "The cache is never invalidated." in blocked["reason"] and "round 1 of 12" in blocked["reason"]
    assert "round 1 of 12" in blocked["systemMessage"] and "mainline ADVANCED" in blocked["systemMessage"]
    assert len(calls()) == 1 and calls()[0]["phase"] == "review" and calls()[0]["reviewer_env"] == "1"

    finish_round(kit, project, loop_id, 1, summary="The kernel is now 1.8x faster than SGLang.")
    gated = kit.stop(project)
    assert gated["decision"] == "block"
    assert '"1.8x"' in gated["reason"] and "speedup_device=1.21" in gated["reason"]
    assert "reviewer was not called" in gated["reason"]
    assert len(calls()) == 1, "the gate failure must not reach the reviewer"

    finish_round(kit, project, loop_id, 2, summary="The kernel is now 1.2x faster than SGLang.")
    review = kit.stop(project)
    assert review["decision"] == "block" and "[P1]" in review["reason"]
    assert [c["phase"] for c in calls()] == ["review", "review", "code-review"]
    assert state_of(project, loop_id)["phase"] == "code_review"

    finish_round(kit, project, loop_id, 3, summary="Fixed the stale comment.")
    clean = kit.stop(project)
    assert clean["decision"] == "block" and "Finalize" in clean["reason"]
    assert state_of(project, loop_id)["phase"] == "finalize"

    folder = project / ".humanize" / "rlcr" / loop_id
    (folder / "round-4-summary.md").write_text("Final: 1.2x on c1.\n")
    done = kit.stop(project)
    assert "decision" not in done and "complete" in done["systemMessage"]
    state = state_of(project, loop_id)
    assert state["status"] == "complete" and state["ended_at"]
    assert not (project / ".humanize" / "rlcr" / "active.json").exists()
    assert [entry["outcome"] for entry in state["history"]] == [
        "review: continue", "evidence gate failed (reviewer not called)", "code review: findings",
        "code review: clean", "loop ended: complete"]
    assert kit.stop(project) is None, "after the loop ended, stops pass silently"
    status = kit.kp("loop", "status", cwd=project)
    assert status.returncode == 0 and "complete" in status.stdout


def test_codex_stop_shape_and_unfinished_round(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv)["loop_id"]
    blocked = kit.stop(project, shape="codex")
    assert blocked["decision"] == "block"
    assert "round-0-contract.md" in blocked["reason"] and "round-0-summary.md" in blocked["reason"]
    assert state_of(project, loop_id)["round"] == 1


def test_cancel_mid_round(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv)["loop_id"]
    cancelled = kit.kp("loop", "cancel", cwd=project)
    assert cancelled.returncode == 0 and "cancelled at round 0" in cancelled.stdout
    assert state_of(project, loop_id)["status"] == "cancel"
    assert kit.stop(project) is None
    again = kit.kp("loop", "cancel", cwd=project)
    assert again.returncode == 2 and "no active loop" in again.stderr


def test_max_rounds_end_the_loop_cleanly(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv, "--max", "2")["loop_id"]
    finish_round(kit, project, loop_id, 0)
    assert kit.stop(project)["decision"] == "block"
    finish_round(kit, project, loop_id, 1)
    ended = kit.stop(project)
    assert "decision" not in ended and "maxiter" in ended["systemMessage"]
    assert state_of(project, loop_id)["status"] == "maxiter"


def test_reviewer_timeout_kills_its_process_group(kit, project, reviewer):
    argv, set_script, _, folder = reviewer
    set_script([{"hang": True}])
    loop_id = start(kit, project, argv, "--review-timeout", "2")["loop_id"]
    finish_round(kit, project, loop_id, 0)
    began = time.monotonic()
    blocked = kit.stop(project)
    assert time.monotonic() - began < 30
    assert blocked["decision"] == "block" and "timed out" in blocked["reason"]
    child = int((folder / "child.pid").read_text())
    assert not _alive(child), "the reviewer's child outlived the timeout"
    state = state_of(project, loop_id)
    assert state["round"] == 0 and state["reviewer_failures"] == 1
    assert not (project / ".humanize" / "rlcr" / loop_id / "reviewer.pid").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_reviewer_crash_retries_then_ends_unexpected(kit, project, reviewer):
    argv, set_script, calls, _ = reviewer
    set_script([{"output": "", "exit": 3}])
    loop_id = start(kit, project, argv)["loop_id"]
    finish_round(kit, project, loop_id, 0)
    for _ in range(2):
        retry = kit.stop(project)
        assert retry["decision"] == "block" and "exited with status 3" in retry["reason"]
    ended = kit.stop(project)
    assert "decision" not in ended and "unexpected" in ended["systemMessage"]
    assert state_of(project, loop_id)["status"] == "unexpected" and len(calls()) == 3


def test_malformed_hook_input(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv)["loop_id"]
    for bad in ("{not json", "[1, 2]", ""):
        result = kit.kp("hook", "stop", cwd=project, stdin=bad)
        assert result.returncode == 0 and result.stderr == ""
        assert "not a JSON object" in json.loads(result.stdout)["systemMessage"]
    assert state_of(project, loop_id)["round"] == 0 and state_of(project, loop_id)["status"] == "active"
    elsewhere = kit.kp("hook", "stop", cwd=project.parent, stdin="{not json")
    assert elsewhere.returncode == 0 and elsewhere.stdout == "" and elsewhere.stderr == ""


def test_two_sessions_in_one_directory(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv, session="owner")["loop_id"]
    assert kit.stop(project, session="bystander") is None
    assert kit.stop(project, session="bystander", shape="codex") is None
    assert state_of(project, loop_id)["round"] == 0
    assert kit.stop(project, session="owner")["decision"] == "block"
    second = kit.kp("loop", "start", "plan.md", cwd=project)
    assert second.returncode == 2 and "already active" in second.stderr


def test_unbound_loop_is_claimed_by_the_first_stop(kit, project, reviewer):
    argv, *_ = reviewer
    result = kit.kp("loop", "start", "plan.md", "--json", "--reviewer", "command", "--reviewer-command", argv[0],
                cwd=project)
    loop_id = json.loads(result.stdout)["loop_id"]
    assert kit.stop(project, session="first")["decision"] == "block"
    assert state_of(project, loop_id)["session_id"] == "first"
    assert kit.stop(project, session="second") is None


def test_corrupted_state_file(kit, project, reviewer):
    argv, *_ = reviewer
    loop_id = start(kit, project, argv)["loop_id"]
    folder = project / ".humanize" / "rlcr" / loop_id
    (folder / "state.json").write_text('{"loop_id": "broken", ')
    ended = kit.stop(project)
    assert "decision" not in ended and "not valid JSON" in ended["systemMessage"]
    kept = list(folder.glob("state.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == '{"loop_id": "broken", '
    assert (folder / "plan.md").exists() and (folder / "round-0-prompt.md").exists()
    assert kit.stop(project) is None
    status = kit.kp("loop", "status", cwd=project)
    assert status.returncode == 0 and "unexpected" in status.stdout and "state.corrupt-" in status.stdout
    assert start(kit, project, argv)["loop_id"] != loop_id, "a new loop can start after the corrupted one"


def test_plan_change_and_goal_edit_block_the_stop(kit, project, reviewer):
    argv, _, calls, _ = reviewer
    loop_id = start(kit, project, argv)["loop_id"]
    finish_round(kit, project, loop_id, 0)
    (project / "plan.md").write_text((project / "plan.md").read_text() + "\nsneaky\n")
    kit.git(project, "commit", "-qam", "edit plan")
    blocked = kit.stop(project)
    assert "changed or vanished" in blocked["reason"] and calls() == []


def test_start_preconditions(kit, project, reviewer, tmp_path):
    argv, *_ = reviewer
    (project / "dirty.txt").write_text("x")
    dirty = kit.kp("loop", "start", "plan.md", cwd=project)
    assert dirty.returncode == 2 and "not clean" in dirty.stderr
    (project / "dirty.txt").unlink()
    outside = tmp_path / "outside.md"
    outside.write_text("# x\n")
    away = kit.kp("loop", "start", str(outside), cwd=project)
    assert away.returncode == 2 and "outside the project" in away.stderr
    os.symlink(project / "plan.md", project / "link.md")
    kit.git(project, "add", "link.md")
    kit.git(project, "commit", "-qm", "link")
    linked = kit.kp("loop", "start", "link.md", cwd=project)
    assert linked.returncode == 2 and "symlink" in linked.stderr
    (project / "bad.md").write_text("# only a title\n")
    kit.git(project, "add", "bad.md")
    kit.git(project, "commit", "-qm", "bad plan")
    bad = kit.kp("loop", "start", "bad.md", cwd=project)
    assert bad.returncode == 2 and "missing section" in bad.stderr
    assert not (project / ".humanize" / "rlcr" / "active.json").exists()


def test_status_watch_follows_the_loop_until_it_ends(kit, project, reviewer):
    argv, *_ = reviewer
    start(kit, project, argv)
    watcher = subprocess.Popen([str(kit.entry), "loop", "status", "--watch"], cwd=project, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # past one refresh: a watcher of an active loop is still running
        assert watcher.poll() is None
        assert kit.kp("loop", "cancel", cwd=project).returncode == 0
        out, err = watcher.communicate(timeout=15)
    finally:
        watcher.kill()
    assert watcher.returncode == 0 and err == ""
    assert "round 0" in out and "cancel" in out
