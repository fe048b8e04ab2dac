"""The humanize plugin and the repository marketplace, checked by the real Claude Code CLI, and the plugin's shell
entry finding the Python the installer recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

COMMANDS = {"gen-plan", "refine-plan", "start-rlcr-loop", "cancel-rlcr-loop", "loop-status"}


@pytest.mark.parametrize("target", ["humanize", "."])
def test_claude_validates_plugin_and_marketplace_strictly(repo_root, kit, target):
    result = subprocess.run([kit.require_cli("claude"), "plugin", "validate", "--strict", target], cwd=repo_root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    if target == "humanize":
        listed = {line.split("humanize:")[1].strip() for line in result.stdout.splitlines() if "humanize:" in line}
        assert listed == COMMANDS


def test_hooks_reach_nothing_outside_the_plugin(repo_root):
    hooks = json.loads((repo_root / "humanize" / "hooks" / "hooks.json").read_text())["hooks"]
    commands = [hook["command"] for groups in hooks.values() for group in groups for hook in group["hooks"]]
    assert set(hooks) == {"Stop", "PreToolUse"}
    assert all(command.startswith('"${CLAUDE_PLUGIN_ROOT}/bin/kp" hook ') for command in commands)
    marketplace = json.loads((repo_root / ".claude-plugin" / "marketplace.json").read_text())
    assert [(p["name"], p["source"]) for p in marketplace["plugins"]] == [("humanize", "./humanize")]


def test_kp_runs_the_recorded_python_from_a_copied_plugin(tmp_path, repo_root, env):
    plugin = tmp_path / "cache" / "humanize"
    shutil.copytree(repo_root / "humanize", plugin)
    config = tmp_path / "home" / "kpconfig"
    config.mkdir(parents=True, exist_ok=True)
    (config / "python").write_text(sys.executable + "\n")
    run_env = {k: v for k, v in os.environ.items() if k != "KERNELPILOT_PYTHON"}
    result = subprocess.run([str(plugin / "bin" / "kp"), "--version"], capture_output=True, text=True, env=run_env)
    assert result.returncode == 0 and result.stdout.startswith("kernelpilot "), result.stderr
    (config / "python").write_text("/nonexistent/python\n")
    broken = subprocess.run([str(plugin / "bin" / "kp"), "--version"], capture_output=True, text=True, env=run_env)
    assert broken.returncode != 0 and "/nonexistent/python" in broken.stderr
