"""Reviewer plumbing: verdict parsing, command lines for each agent CLI, and the real codex feature probe."""

from __future__ import annotations

import json

import pytest

from kernelpilot.loop import reviewer
from kernelpilot.loop.config import defaults


def test_verdicts_come_from_the_last_line_and_the_mainline_line():
    assert reviewer.parse_verdict("fine\nMAINLINE: ADVANCED\n\nCOMPLETE\n\n") == ("COMPLETE", "ADVANCED")
    assert reviewer.parse_verdict("**MAINLINE:** stalled\nmore work\n") == (None, "STALLED")
    assert reviewer.parse_verdict("COMPLETE is not yet right\nMAINLINE: REGRESSED\nfix it") == (None, "REGRESSED")
    assert reviewer.parse_verdict("cannot work\n**STOP**") == ("STOP", None)


def test_code_review_findings():
    assert reviewer.has_findings("- [P2] a.py:3 leak\n")
    assert reviewer.has_findings("something\nFINDINGS")
    assert not reviewer.has_findings("looked at everything\nCLEAN")
    assert not reviewer.has_findings("No issues found.")


def test_command_reviewer_needs_its_command():
    config = {**defaults(), "reviewer": "command"}
    with pytest.raises(Exception, match="reviewer_command"):
        reviewer.review_argv(config, False, "0" * 40)
    config.update(reviewer_command=["rev", "--x"], code_review_command=["cr"])
    assert reviewer.review_argv(config, False, "0" * 40) == ["rev", "--x"]
    assert reviewer.review_argv(config, True, "0" * 40) == ["cr"]


def test_codex_probe_keeps_only_accepted_hook_features(kit):
    features = reviewer.codex_hook_features(kit.require_cli("codex"))
    assert "hooks" in features, features
    assert "plugin_hooks" not in features, "a removed feature is not worth disabling"
    argv = reviewer.review_argv({**defaults(), "codex_model": "gpt-5"}, False, "a" * 40)
    assert argv[1] == "exec" and argv[-1] == "-" and ["--disable", "hooks"] == argv[2:4]
    assert "model_reasoning_effort=\"high\"" in argv
    review = reviewer.review_argv(defaults(), True, "a" * 40)
    assert review[1] == "review" and review[-3:] == ["--base", "a" * 40, "-"]


def test_claude_reviewer_runs_with_hooks_disabled(kit):
    kit.require_cli("claude")
    argv = reviewer.review_argv({**defaults(), "reviewer": "claude"}, False, "a" * 40)
    assert argv[1] == "-p" and json.loads(argv[argv.index("--settings") + 1]) == {"disableAllHooks": True}
