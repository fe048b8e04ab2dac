"""The bundle an installer ships: the skills (checked against the Agent Skills rules every client enforces), the
humanize plugin and the knowledge data, and the placeholders hydrated into the installed copies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kernelpilot.errors import KernelPilotError

SKILL_FILE = "SKILL.md"
# The only frontmatter keys that Claude Code, Codex and Kimi all accept.
PORTABLE_KEYS = {"name", "description"}
NAME_RULE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_MAX, DESCRIPTION_MAX = 64, 1024
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
FRONTMATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass(frozen=True)
class Bundle:
    """A KernelPilot checkout as the installers see it."""

    root: Path

    @property
    def skills(self) -> Path:
        return self.root / "skills"

    @property
    def plugin(self) -> Path:
        return self.root / "humanize"

    @property
    def knowledge_data(self) -> Path:
        return self.root / "knowledge" / "data" / "tags.yaml"

    def check(self) -> None:
        """Fail naming the first path an install needs that is missing."""
        for path in (self.skills, self.plugin / ".claude-plugin" / "plugin.json", self.plugin / "bin" / "kp",
                     self.root / ".claude-plugin" / "marketplace.json", self.knowledge_data):
            if not path.exists():
                raise KernelPilotError(f"{path} not found: is {self.root} a KernelPilot checkout?")

    def skill_folders(self) -> list[Path]:
        return sorted(path.parent for path in self.skills.glob(f"*/{SKILL_FILE}"))


def frontmatter(skill_md: Path) -> dict:
    match = FRONTMATTER.match(skill_md.read_text(encoding="utf-8"))
    if match is None:
        raise KernelPilotError(f"{skill_md}: no YAML frontmatter between '---' lines at the top")
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise KernelPilotError(f"{skill_md}: frontmatter is not YAML ({exc})") from None
    if not isinstance(data, dict):
        raise KernelPilotError(f"{skill_md}: frontmatter is not a mapping")
    return data


def skill_problems(folder: Path) -> list[str]:
    """Every way a skill folder breaks the rules a client applies when it loads skills."""
    skill_md = folder / SKILL_FILE
    try:
        meta = frontmatter(skill_md)
    except KernelPilotError as exc:
        return [str(exc)]
    problems = [f"{skill_md}: key {key!r} is not accepted by every client (only {sorted(PORTABLE_KEYS)})"
                for key in sorted(set(meta) - PORTABLE_KEYS)]
    name, description = meta.get("name"), meta.get("description")
    if not isinstance(name, str) or not NAME_RULE.match(name) or len(name) > NAME_MAX:
        problems.append(f"{skill_md}: name {name!r} must be lowercase letters, digits and single hyphens, "
                        f"at most {NAME_MAX} characters")
    elif name != folder.name:
        problems.append(f"{skill_md}: name {name!r} differs from its folder {folder.name!r}")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{skill_md}: description is missing")
    elif len(description) > DESCRIPTION_MAX or "<" in description or ">" in description:
        problems.append(f"{skill_md}: description must be at most {DESCRIPTION_MAX} characters without angle "
                        f"brackets (has {len(description)})")
    return problems


def hydrate(text: str, values: dict[str, str], source: Path) -> str:
    """Fill every {{NAME}}; fail naming the file and the placeholder that no value fills."""
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    left = PLACEHOLDER.search(text)
    if left:
        raise KernelPilotError(f"{source}: placeholder {left.group(0)} has no value")
    return text


def rendered_skills(bundle: Bundle, values: dict[str, str]) -> dict[str, dict[str, bytes]]:
    """skill name -> {relative path: hydrated bytes}; every skill checked first, so nothing is half-installed."""
    folders = bundle.skill_folders()
    if not folders:
        raise KernelPilotError(f"no skills found under {bundle.skills}")
    problems = [problem for folder in folders for problem in skill_problems(folder)]
    if problems:
        raise KernelPilotError(problems[0])
    rendered: dict[str, dict[str, bytes]] = {}
    for folder in folders:
        files = {}
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if path.suffix == ".md":
                data = hydrate(data.decode("utf-8"), values, path).encode("utf-8")
            files[str(path.relative_to(folder))] = data
        rendered[folder.name] = files
    return rendered
