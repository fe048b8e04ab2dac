"""Shared set-up for the loop tests: a real git project, the plugin's real hook entry, a scripted reviewer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from agent_clis import require_cli

REPO = Path(__file__).resolve().parents[2]
KP = REPO / "humanize" / "bin" / "kp"

PLAN = textwrap.dedent("""\
    # Faster widget

    ## Goal

    Make the widget faster without changing its output.

    ## Acceptance Criteria

    - AC-1: the widget's output is unchanged.
      - Positive: the existing tests pass.
      - Negative: a changed output fails the tests.

    ## Path Boundaries

    Only src/ may change.

    ## Feasibility Hints

    Cache the lookup table.

    ## Dependencies and Milestones

    None; one milestone.

    ## Task Breakdown

    | ID | Description | Target AC | Tag | Depends On |
    |----|----|----|----|----|
    | T1 | Cache the table | AC-1 | coding | - |

    ## Pending Decisions

    None.
    """)

# A reviewer double: each call takes the next step of the script in $FAKE_REVIEW_DIR/script.json, logs the call
# (phase and prompt) and answers as the step says: print an output, exit with a status, or hang with a child.
FAKE_REVIEWER = textwrap.dedent("""\
    #!{python}
    import json, os, subprocess, sys, time
    folder = os.environ["FAKE_REVIEW_DIR"]
    prompt = sys.stdin.read()
    with open(os.path.join(folder, "script.json")) as handle:
        steps = json.load(handle)
    calls = os.path.join(folder, "calls.jsonl")
    number = sum(1 for _ in open(calls)) if os.path.exists(calls) else 0
    with open(calls, "a") as handle:
        handle.write(json.dumps({{"phase": os.environ.get("KERNELPILOT_REVIEW_PHASE"), "prompt": prompt,
                                  "reviewer_env": os.environ.get("KERNELPILOT_REVIEWER")}}) + "\\n")
    step = steps[min(number, len(steps) - 1)]
    if step.get("hang"):
        child = subprocess.Popen(["sleep", "300"])
        with open(os.path.join(folder, "child.pid"), "w") as handle:
            handle.write(str(child.pid))
        time.sleep(300)
    sys.stdout.write(step.get("output", ""))
    sys.exit(step.get("exit", 0))
    """)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict:
    """An isolated environment: its own config folder and HOME, the checkout's package on PYTHONPATH."""
    home = tmp_path / "home"
    home.mkdir()
    values = {"HOME": str(home), "KERNELPILOT_CONFIG_DIR": str(home / "kpconfig"),
              "KERNELPILOT_PYTHON": sys.executable, "PYTHONPATH": str(REPO / "src"),
              "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
              "GIT_COMMITTER_EMAIL": "t@example.com"}
    for name in ("KERNELPILOT_REVIEWER", "CLAUDE_CODE_SESSION_ID", "CODEX_SESSION_ID", "CLAUDE_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**os.environ}


@pytest.fixture
def project(tmp_path, env) -> Path:
    """A git repository with one commit holding a complete plan."""
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    (root / "plan.md").write_text(PLAN)
    (root / "src" / "widget.py").write_text("TABLE = [1, 2, 3]\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


@pytest.fixture
def reviewer(tmp_path, env, monkeypatch):
    """Write the scripted reviewer; returns (argv, set_script(steps), calls())."""
    folder = tmp_path / "review"
    folder.mkdir()
    script = folder / "fake-reviewer"
    script.write_text(FAKE_REVIEWER.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_REVIEW_DIR", str(folder))

    def set_script(steps: list[dict]) -> None:
        (folder / "script.json").write_text(json.dumps(steps))

    def calls() -> list[dict]:
        path = folder / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    set_script([{"output": "MAINLINE: ADVANCED\nkeep going\n"}])
    return [str(script)], set_script, calls, folder


def kp(*args: str, cwd: Path, stdin: str | None = None, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """The plugin's own entry (humanize/bin/kp), as Claude Code runs it."""
    return subprocess.run([str(KP), *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(extra_env or {})}, timeout=120)


def stop(cwd: Path, session: str = "s1", shape: str = "claude", **extra) -> dict | None:
    """One stop attempt through the hook; the parsed output, or None when it allowed the stop silently."""
    payload = {"session_id": session, "transcript_path": "/dev/null", "cwd": str(cwd), "hook_event_name": "Stop",
               "stop_hook_active": False, "last_assistant_message": "done"}
    if shape == "codex":
        payload.update(turn_id="turn-1", model="gpt-5-codex")
    payload.update(extra)
    result = kp("hook", "stop", cwd=cwd, stdin=json.dumps(payload))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import this conftest by name)."""
    return SimpleNamespace(git=git, kp=kp, stop=stop, plan=PLAN, entry=KP, require_cli=require_cli)
