"""The installers tried as a new user would, in throwaway homes, against the real claude and codex CLIs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agent_clis import require_cli
from homes import REPO, client_env, installer, run, snapshot

SKILL_NAMES = {"kernel-agent-loop", "kernel-knowledge", "ncu-report"}
COMMANDS = {"gen-plan", "refine-plan", "start-rlcr-loop", "cancel-rlcr-loop", "loop-status"}


@pytest.mark.parametrize("installs, uninstalls", [
    (["claude", "codex", "kimi"], ["codex", "claude", "kimi"]),
    (["kimi", "codex", "claude"], ["kimi", "claude", "codex"]),
])
def test_install_twice_changes_nothing_and_uninstall_restores_the_home(home, installs, uninstalls):
    before = snapshot(home)
    for client in installs:
        installer(home, client)
    installed = snapshot(home)
    assert installed != before
    for client in installs:
        result = installer(home, client)
        assert "unchanged" in result.stdout
    assert snapshot(home) == installed
    for client in uninstalls:
        installer(home, client, "--uninstall")
    assert snapshot(home) == before


def test_installed_skills_carry_no_placeholder_and_name_this_checkout(home):
    installer(home, "all")
    folders = [home / ".claude" / "skills", home / ".agents" / "skills", home / ".config" / "agents" / "skills"]
    for folder in folders:
        assert {path.name for path in folder.iterdir()} == SKILL_NAMES
        for path in folder.rglob("*.md"):
            assert "{{" not in path.read_text(), path
    loop = (home / ".agents" / "skills" / "kernel-agent-loop" / "SKILL.md").read_text()
    assert str(REPO) in loop and "kernelpilot loop gate" in loop
    assert (home / ".config" / "kernelpilot" / "python").read_text().splitlines()[0] == client_env(home)[
        "KERNELPILOT_PYTHON"]


def test_dry_run_changes_nothing(home):
    before = snapshot(home)
    result = installer(home, "all", "--dry-run")
    assert "would merge the loop's Stop hook" in result.stdout
    assert snapshot(home) == before


def test_a_placeholder_without_value_fails_before_anything_is_written(home, tmp_path):
    root = tmp_path / "checkout"
    for name in ("skills", "humanize", ".claude-plugin", "knowledge"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("eval", "wiki"))
    skill = root / "skills" / "ncu-report" / "SKILL.md"
    skill.write_text(skill.read_text() + "\nSee {{NOT_A_PLACEHOLDER}}.\n")
    before = snapshot(home)
    result = run([sys.executable, "-m", "kernelpilot", "install", "kimi", "--home", str(home), "--root", str(root)], home,
                 check=False)
    assert result.returncode == 2 and "{{NOT_A_PLACEHOLDER}}" in result.stderr
    assert snapshot(home) == before


def test_missing_knowledge_data_fails_naming_the_path(home, tmp_path):
    root = tmp_path / "checkout"
    for name in ("skills", "humanize", ".claude-plugin"):
        shutil.copytree(REPO / name, root / name)
    result = run([sys.executable, "-m", "kernelpilot", "install", "codex", "--home", str(home), "--root", str(root)], home,
                 check=False)
    assert result.returncode == 2
    assert str(root / "knowledge" / "data" / "tags.yaml") in result.stderr


def test_claude_lists_the_plugin_its_commands_and_the_skills(home):
    require_cli("claude")
    installer(home, "claude")
    plugins = json.loads(run(["claude", "plugin", "list", "--json"], home).stdout)
    assert [(p["id"], p["enabled"], p["readFromFolder"]) for p in plugins] == [
        ("humanize@kernelpilot", True, str(REPO / "humanize"))]
    details = run(["claude", "plugin", "details", "humanize@kernelpilot"], home).stdout
    assert all(command in details for command in COMMANDS)
    for target in (REPO, REPO / "humanize"):
        run(["claude", "plugin", "validate", "--strict", str(target)], home)
    context = run(["claude", "-p", "/context"], home, cwd=home / "project").stdout
    assert all(f"| {name} | User |" in context for name in SKILL_NAMES), context
    assert all(f"humanize:{command}" in context for command in COMMANDS), context


def test_without_the_cli_the_settings_match_what_the_cli_writes(tmp_path):
    require_cli("claude")
    by_cli, by_files = tmp_path / "cli", tmp_path / "files"
    for folder in (by_cli, by_files):
        (folder / "project").mkdir(parents=True)
    installer(by_cli, "claude")
    installer(by_files, "claude", "--no-cli")
    settings = [json.loads((folder / ".claude" / "settings.json").read_text()) for folder in (by_cli, by_files)]
    assert settings[0] == settings[1]
    context = run(["claude", "-p", "/context"], by_files, cwd=by_files / "project").stdout
    assert all(f"humanize:{command}" in context for command in COMMANDS), context


def test_codex_lists_the_skills_and_the_hooks(home):
    require_cli("codex")
    installer(home, "codex")
    answers = codex_app_server(home, [("skills/list", {"cwds": [str(home / "project")]}),
                                      ("hooks/list", {"cwds": [str(home / "project")]})])
    skills = answers["skills/list"]["data"][0]
    assert skills["errors"] == []
    ours = {s["name"]: s["path"] for s in skills["skills"] if s["name"] in SKILL_NAMES}
    assert ours == {name: str(home / ".agents" / "skills" / name / "SKILL.md") for name in SKILL_NAMES}
    hooks = answers["hooks/list"]["data"][0]
    assert hooks["errors"] == []
    by_event = {h["eventName"]: h for h in hooks["hooks"] if "kernelpilot.loop.hook" in h["command"]}
    assert by_event["stop"]["timeoutSec"] >= 7200 and by_event["stop"]["command"].endswith(" stop")
    assert by_event["preToolUse"]["command"].endswith(" pre-tool")
    assert any(h["command"] == "notify-send done" for h in hooks["hooks"])  # the user's own hook is kept
    features = run(["codex", "features", "list"], home).stdout
    assert any(line.split()[:1] == ["hooks"] and line.split()[-1] == "true" for line in features.splitlines())


def test_the_prompt_codex_builds_lists_the_skills(home):
    require_cli("codex")
    installer(home, "codex")
    prompt = run(["codex", "debug", "prompt-input"], home, cwd=home / "project").stdout
    assert all(f"- {name}: " in prompt for name in SKILL_NAMES)


def test_uninstall_keeps_what_the_user_added_since(home):
    installer(home, "codex")
    hooks_file = home / ".codex" / "hooks.json"
    hooks = json.loads(hooks_file.read_text())
    hooks["hooks"]["PreToolUse"].append({"matcher": "Bash", "hooks": [{"type": "command", "command": "audit"}]})
    hooks_file.write_text(json.dumps(hooks))
    installer(home, "codex", "--uninstall")
    left = json.loads(hooks_file.read_text())["hooks"]
    commands = [h["command"] for groups in left.values() for group in groups for h in group["hooks"]]
    assert sorted(commands) == ["audit", "notify-send done"]
    assert "hooks = true" not in (home / ".codex" / "config.toml").read_text()
    assert not (home / ".agents").exists()


def codex_app_server(home: Path, requests: list[tuple[str, dict]]) -> dict:
    """Ask a real `codex app-server` (JSON-RPC over stdio, offline) and return each method's result."""
    process = subprocess.Popen(["codex", "app-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=client_env(home), cwd=home)
    try:
        messages = [{"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "test", "version": "1"}}},
                    {"method": "initialized"}]
        messages += [{"id": n, "method": method, "params": params} for n, (method, params) in enumerate(requests, 1)]
        for message in messages:
            process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        process.stdin.flush()
        results: dict = {}
        for _ in range(200):  # bounded: notifications may come between the answers
            line = process.stdout.readline()
            if not line:
                break
            answer = json.loads(line)
            if answer.get("id") in range(1, len(requests) + 1):
                assert "error" not in answer, answer
                results[requests[answer["id"] - 1][0]] = answer["result"]
                if len(results) == len(requests):
                    break
        return results
    finally:
        process.kill()
        process.wait(timeout=30)
