"""The skills load in every client, and every command, flag and file they name exists."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kernelpilot.cli import build_parser
from kernelpilot.install.skills import Bundle, hydrate, skill_problems

REPO = Path(__file__).resolve().parents[2]
SKILLS = sorted((REPO / "skills").glob("*/SKILL.md"))
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
INLINE = re.compile(r"`([^`\n]+)`")
ROOT_PATH = re.compile(r"\{\{KERNELPILOT_ROOT\}\}/([\w./-]+)")
REPO_PATH = re.compile(r"(?<![\w/.])((?:install|scripts)/[\w./-]+)")
REFERENCE = re.compile(r"`(references/[\w./-]+)`")
SLASH = re.compile(r"/humanize:([a-z-]+)")


def skill_texts() -> list[tuple[Path, str]]:
    return [(path, text) for path in (REPO / "skills").rglob("*.md") for text in [path.read_text()]]


def command_lines(text: str) -> list[str]:
    """Every `kernelpilot ...` command a skill shows, in code blocks and inline code."""
    lines = [line.strip() for block in FENCE.findall(text) for line in block.splitlines()]
    lines += [span.strip() for span in INLINE.findall(FENCE.sub("", text))]
    commands = []
    for line in lines:
        line = line.split(" #")[0].removeprefix("$ ")
        for part in re.split(r"\s*(?:&&|;)\s*", line):
            if part.startswith("kernelpilot ") or "/bin/kp " in part:
                commands.append(part[part.index("kp ") + 3:] if "/bin/kp " in part else part.split(" ", 1)[1])
    return commands


def parse_problem(command: str) -> str | None:
    """Parse a command line with the real parser; returns what is wrong with it, or None. A bare `area verb`
    named in prose must answer --help."""
    argv = shlex.split(command)
    parser = build_parser(argv[0] if argv else None)
    bare = len(argv) == 2
    try:
        parser.parse_args(argv + ["--help"] if bare else argv)
    except SystemExit as exc:
        return None if bare and exc.code == 0 else f"exit {exc.code}"
    return "a bare verb must answer --help" if bare else None


def test_there_are_three_skills():
    assert sorted(path.parent.name for path in SKILLS) == ["kernel-agent-loop", "kernel-knowledge", "ncu-report"]


@pytest.mark.parametrize("skill", SKILLS, ids=lambda p: p.parent.name)
def test_frontmatter_loads_in_every_client(skill):
    assert skill_problems(skill.parent) == []


@pytest.mark.parametrize("frontmatter, problem", [
    ("name: Kernel_Loop\ndescription: x", "lowercase letters"),
    ("name: other-name\ndescription: x", "differs from its folder"),
    ("name: bad--name\ndescription: x", "single hyphens"),
    ("name: demo\ndescription: use <this>", "angle brackets"),
    ("name: demo\ndescription: " + "x" * 1025, "at most 1024"),
    ("name: demo\ndescription: x\nallowed-tools: Bash", "not accepted by every client"),
    ("name: demo", "description is missing"),
])
def test_frontmatter_rules_catch_what_clients_reject(tmp_path, frontmatter, problem):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text(f"---\n{frontmatter}\n---\n\nbody\n")
    assert any(problem in found for found in skill_problems(folder))


def test_every_command_line_in_the_skills_parses():
    commands = {command for _, text in skill_texts() for command in command_lines(text)}
    assert len(commands) > 25
    problems = {command: parse_problem(command) for command in commands}
    assert {c: p for c, p in problems.items() if p} == {}


def test_every_verb_the_skills_use_answers_help():
    verbs = {tuple(shlex.split(command)[:2]) for _, text in skill_texts() for command in command_lines(text)}
    for verb in sorted(verbs):
        result = subprocess.run([sys.executable, "-m", "kernelpilot", *verb, "--help"], capture_output=True,
                                text=True)
        assert result.returncode == 0, (verb, result.stderr)


def test_the_command_check_fails_on_a_command_or_flag_that_does_not_exist():
    text = "Run `kernelpilot task check TASK --no-such-flag` and\n```bash\nkernelpilot task nosuchverb TASK\n```\n"
    assert all(parse_problem(command) for command in command_lines(text))


def test_every_file_the_skills_name_exists():
    missing = []
    for path, text in skill_texts():
        named = [REPO / p for p in ROOT_PATH.findall(text) + REPO_PATH.findall(text)]
        named += [path.parent / p for p in REFERENCE.findall(text)]
        named += [REPO / "humanize" / "commands" / f"{name}.md" for name in SLASH.findall(text)]
        missing += [str(p) for p in named if not p.exists()]
    assert missing == []


def test_the_example_spec_scaffolds_a_valid_task(tmp_path):
    text = (REPO / "skills" / "kernel-agent-loop" / "references" / "kwr.md").read_text()
    spec = tmp_path / "spec.yaml"
    spec.write_text(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    for args in (["task", "new", "h200_copy__multi_shape", "--spec", str(spec), "--dir", str(tmp_path)],
                 ["task", "validate", str(tmp_path / "h200_copy__multi_shape")]):
        result = subprocess.run([sys.executable, "-m", "kernelpilot", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_placeholder_is_one_the_installer_fills():
    values = {"KERNELPILOT_ROOT": "/r", "HUMANIZE_RUNTIME_ROOT": "/r/humanize", "KERNELPILOT_PYTHON": "/py"}
    for path, text in skill_texts():
        assert "{{" not in hydrate(text, values, path)
    with pytest.raises(Exception, match=r"\{\{UNKNOWN\}\}"):
        hydrate("see {{UNKNOWN}}", values, Path("x.md"))


def test_the_bundle_is_complete():
    Bundle(REPO).check()
