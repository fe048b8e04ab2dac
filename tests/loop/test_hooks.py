"""The hook entry: silence for other projects and sessions, both clients' input shapes, and the PreToolUse guard."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture
def active(kit, project, reviewer):
    argv, *_ = reviewer
    result = kit.kp("loop", "start", "plan.md", "--json", "--session-id", "owner", "--reviewer", "command",
                    "--reviewer-command", argv[0], cwd=project)
    assert result.returncode == 0, result.stderr
    return project / ".humanize" / "rlcr" / json.loads(result.stdout)["loop_id"]


def guard(kit, project, tool_name, tool_input, session="owner"):
    payload = {"session_id": session, "cwd": str(project), "hook_event_name": "PreToolUse", "tool_name": tool_name,
               "tool_input": tool_input}
    result = kit.kp("hook", "pre-tool", cwd=project, stdin=json.dumps(payload))
    assert result.returncode == 0 and result.stderr == ""
    return json.loads(result.stdout)["hookSpecificOutput"] if result.stdout.strip() else None


def test_no_loop_folder_means_silence(kit, project):
    for event in ("stop", "pre-tool"):
        result = kit.kp("hook", event, cwd=project, stdin="garbage")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_python_entry_without_a_loop_is_silent_and_loads_only_the_layout(project, env):
    """Codex's hooks.json runs the module itself, without humanize/bin/kp's shell shortcut: every stop of every
    session pays this path, so it must print nothing and import nothing of KernelPilot beyond the layout."""
    for event in ("stop", "pre-tool"):
        for stdin in ("garbage", json.dumps({"session_id": "s1", "cwd": str(project)})):
            result = subprocess.run([sys.executable, "-X", "importtime", "-m", "kernelpilot.loop.hook", event],
                                    cwd=project, input=stdin, capture_output=True, text=True, env=env, timeout=60)
            assert (result.returncode, result.stdout) == (0, "")
            lines = result.stderr.splitlines()
            assert all(line.startswith("import time:") for line in lines), result.stderr
            loaded = {line.rsplit("|", 1)[-1].strip() for line in lines}
            assert {name for name in loaded if name.startswith("kernelpilot")} == {
                "kernelpilot", "kernelpilot.loop", "kernelpilot.loop.layout"}


def test_reviewer_agents_never_reenter_the_loop(kit, project, active):
    result = kit.kp("hook", "stop", cwd=project, stdin=json.dumps({"session_id": "owner", "cwd": str(project)}),
                    extra_env={"KERNELPILOT_REVIEWER": "1"})
    assert (result.returncode, result.stdout) == (0, "")


def test_both_stop_shapes_reach_the_loop(kit, project, active):
    assert kit.stop(project, session="owner", shape="claude")["decision"] == "block"
    assert kit.stop(project, session="owner", shape="codex")["decision"] == "block"
    assert json.loads((active / "state.json").read_text())["round"] == 2


def test_guard_protects_state_plan_copy_and_goal_section(kit, project, active):
    assert guard(kit, project, "Write", {"file_path": str(active / "state.json"), "content": "{}"})[
        "permissionDecision"] == "deny"
    assert guard(kit, project, "Edit", {"file_path": ".humanize/rlcr/" + active.name + "/plan.md",
                                        "old_string": "Goal", "new_string": "Gaol"}, session="other")
    tracker = active / "goal-tracker.md"
    text = tracker.read_text()
    assert guard(kit, project, "Edit", {"file_path": str(tracker), "old_string": "Make the widget faster",
                                        "new_string": "Make the widget"})
    assert guard(kit, project, "Edit", {"file_path": str(tracker), "old_string": "| open |",
                                        "new_string": "| done |"}) is None
    assert guard(kit, project, "Write", {"file_path": str(tracker), "content": text + "\nmore evidence\n"}) is None
    assert guard(kit, project, "Write", {"file_path": str(active / "round-0-summary.md"), "content": "x"}) is None
    assert guard(kit, project, "Bash", {"command": f"echo '{{}}' > {active}/state.json"})
    assert guard(kit, project, "Bash", {"command": "rm -rf .humanize"})
    assert guard(kit, project, "Bash", {"command": f"cat {active}/state.json"}) is None
    assert guard(kit, project, "Bash", {"command": "pytest -q"}) is None


def test_guard_is_off_without_an_active_loop(kit, project, active):
    assert kit.kp("loop", "cancel", cwd=project).returncode == 0
    assert guard(kit, project, "Write", {"file_path": str(active / "state.json"), "content": "{}"}) is None
