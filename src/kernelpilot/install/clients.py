"""Installing the skills and the loop into Claude Code, Codex and Kimi, and uninstalling them again.

Each client's install is a list of steps (shown as they are by --dry-run) run under a journal that records every
path they create or change, so that a repeated install changes nothing and --uninstall puts the home back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kernelpilot.errors import KernelPilotError
from kernelpilot.install import merge
from kernelpilot.install.journal import Journal
from kernelpilot.install.skills import Bundle, rendered_skills
from kernelpilot.loop.config import USER_CONFIG_ENV, user_config_dir

CLIENTS = ("claude", "codex", "kimi")
# Codex reads personal skills from ~/.agents/skills since 0.95 (openai/codex#10437); older releases only from
# $CODEX_HOME/skills.
CODEX_AGENTS_SKILLS_SINCE = (0, 95)
# Claude Code's own CLI writes telemetry and update checks into the home unless told not to.
QUIET_CLAUDE = {"DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1"}
CLI_TIMEOUT_S = 180


@dataclass(frozen=True)
class Homes:
    """Where each client keeps its files; --home puts them all under one folder (throwaway homes in tests)."""

    home: Path
    config: Path
    codex: Path
    claude: Path
    kernelpilot: Path

    @classmethod
    def locate(cls, home: str | None = None) -> "Homes":
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root, root / ".config", root / ".codex", root / ".claude", root / ".config" / "kernelpilot")
        env, root = os.environ, Path.home()
        return cls(root, Path(env.get("XDG_CONFIG_HOME") or root / ".config"),
                   Path(env.get("CODEX_HOME") or root / ".codex"),
                   Path(env.get("CLAUDE_CONFIG_DIR") or root / ".claude"), user_config_dir())

    @property
    def python_record(self) -> Path:
        return self.kernelpilot / "python"

    def journal(self, client: str) -> Journal:
        return Journal(self.kernelpilot / "install" / client)

    def env(self) -> dict[str, str]:
        """The environment a client's CLI runs in, pointed at these homes."""
        env = {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.config),
               "CODEX_HOME": str(self.codex), USER_CONFIG_ENV: str(self.kernelpilot)}
        if self.claude == self.home / ".claude":
            env.pop("CLAUDE_CONFIG_DIR", None)
        else:
            env["CLAUDE_CONFIG_DIR"] = str(self.claude)
        return env


@dataclass
class Context:
    bundle: Bundle
    homes: Homes
    python: str
    skills_dir: Path | None = None  # one folder instead of the client's own (tests, custom layouts)
    use_cli: bool = True
    journal: Journal | None = None
    skills: dict[str, dict[str, bytes]] = field(default_factory=dict)  # hydrated and checked before any write
    notes: list[str] = field(default_factory=list)


Step = tuple[str, Callable[[Context], None]]


def find_cli(name: str, env_var: str) -> str | None:
    return os.environ.get(env_var) or shutil.which(name)


def run_cli(ctx: Context, command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                                env={**ctx.homes.env(), **QUIET_CLAUDE}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KernelPilotError(f"{' '.join(command)} did not run: {exc}") from None
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise KernelPilotError(f"{' '.join(command)} failed: {detail}")
    return result.stdout


def write_text(ctx: Context, path: Path, text: str) -> None:
    ctx.journal.write_file(path, text.encode("utf-8"))


# -- what every client gets ---------------------------------------------------------------------------------------

def record_python(ctx: Context) -> None:
    write_text(ctx, ctx.homes.python_record, ctx.python + "\n")


def install_skills(folders: list[Path]) -> Step:
    def run(ctx: Context) -> None:
        for folder in folders:
            for name, files in ctx.skills.items():
                for relative, data in files.items():
                    ctx.journal.write_file(folder / name / relative, data)
    names = ", ".join(str(folder) for folder in folders)
    return f"install the skills (placeholders filled) into {names}", run


class Client:
    name = ""

    def skill_folders(self, ctx: Context) -> list[Path]:
        raise NotImplementedError

    def own_steps(self, ctx: Context) -> list[Step]:
        return []

    def steps(self, ctx: Context) -> list[Step]:
        folders = [ctx.skills_dir] if ctx.skills_dir else self.skill_folders(ctx)
        return [(f"record {ctx.python} in {ctx.homes.python_record}", record_python), install_skills(folders),
                *self.own_steps(ctx)]

    def before_undo(self, ctx: Context) -> None:
        """Take KernelPilot's entries out of client files the user changed since the install."""

    def next_steps(self, ctx: Context) -> list[str]:
        return []


class ClaudeCode(Client):
    name = "claude"

    def skill_folders(self, ctx: Context) -> list[Path]:
        return [ctx.homes.claude / "skills"]

    def cli(self, ctx: Context) -> str | None:
        return find_cli("claude", "CLAUDE_BIN") if ctx.use_cli else None

    def plugin_state(self, ctx: Context) -> list[Path]:
        plugins = ctx.homes.claude / "plugins"
        return [ctx.homes.claude / "settings.json", plugins / "known_marketplaces.json",
                plugins / "installed_plugins.json"]

    def own_steps(self, ctx: Context) -> list[Step]:
        claude = self.cli(ctx)
        if claude is None:
            return [(f"register the {merge.MARKETPLACE} marketplace and enable {merge.PLUGIN_ID} in "
                     f"{ctx.homes.claude / 'settings.json'} (claude CLI not found)", self._write_settings)]
        return [(f"{claude} plugin marketplace add {ctx.bundle.root}; {claude} plugin install {merge.PLUGIN_ID}",
                 lambda c: self._install_with_cli(c, claude))]

    def _write_settings(self, ctx: Context) -> None:
        path = ctx.homes.claude / "settings.json"
        write_text(ctx, path, merge.merge_claude_settings(path, ctx.bundle.root))

    def _install_with_cli(self, ctx: Context, claude: str) -> None:
        dotfile = ctx.homes.home / ".claude.json"
        with ctx.journal.observe([ctx.homes.claude, dotfile], [dotfile, *self.plugin_state(ctx)]):
            if not self._installed(ctx, claude):
                run_cli(ctx, [claude, "plugin", "marketplace", "add", str(ctx.bundle.root)])
                run_cli(ctx, [claude, "plugin", "install", merge.PLUGIN_ID, "--scope", "user"])

    def _installed(self, ctx: Context, claude: str) -> bool:
        plugins = json.loads(run_cli(ctx, [claude, "plugin", "list", "--json"]) or "[]")
        markets = json.loads(run_cli(ctx, [claude, "plugin", "marketplace", "list", "--json"]) or "[]")
        return (any(p.get("id") == merge.PLUGIN_ID and p.get("readFromFolder") == str(ctx.bundle.plugin)
                    for p in plugins)
                and any(m.get("name") == merge.MARKETPLACE and m.get("path") == str(ctx.bundle.root) for m in markets))

    def before_undo(self, ctx: Context) -> None:
        changed = [path for path in self.plugin_state(ctx) if ctx.journal.changed_since_install(path)]
        if not changed:
            return
        claude = self.cli(ctx)
        if claude is not None:
            for command in (["plugin", "uninstall", merge.PLUGIN_ID, "--scope", "user"],
                            ["plugin", "marketplace", "remove", merge.MARKETPLACE]):
                run_cli(ctx, [claude, *command])
        else:
            settings = ctx.homes.claude / "settings.json"
            if settings.is_file():
                settings.write_text(merge.unmerge_claude_settings(settings), encoding="utf-8")
        ctx.notes.append(f"{', '.join(map(str, changed))} changed since the install: only KernelPilot's entries "
                         "were taken out")

    def next_steps(self, ctx: Context) -> list[str]:
        return ["Start `claude` in your project and type: use the kernel-agent-loop skill to optimize ... "
                "(the /humanize:* commands and the three skills are listed by /context)"]


class Codex(Client):
    name = "codex"

    def skill_folders(self, ctx: Context) -> list[Path]:
        version = codex_version(find_cli("codex", "CODEX_BIN"))
        if version is not None and version < CODEX_AGENTS_SKILLS_SINCE:
            return [ctx.homes.codex / "skills"]
        return [ctx.homes.home / ".agents" / "skills"]

    def own_steps(self, ctx: Context) -> list[Step]:
        hooks, config = ctx.homes.codex / "hooks.json", ctx.homes.codex / "config.toml"
        return [(f"merge the loop's Stop hook (timeout {merge.STOP_TIMEOUT_S} s) and PreToolUse guard into {hooks}",
                 lambda c: write_text(c, hooks, merge.merge_codex_hooks(hooks, c.python))),
                (f"enable [features] hooks in {config}",
                 lambda c: write_text(c, config, merge.enable_codex_hooks(config)))]

    def before_undo(self, ctx: Context) -> None:
        hooks, config = ctx.homes.codex / "hooks.json", ctx.homes.codex / "config.toml"
        for path, unmerge in ((hooks, merge.unmerge_codex_hooks), (config, merge.disable_our_codex_hooks_line)):
            if ctx.journal.changed_since_install(path) and path.is_file():
                path.write_text(unmerge(path), encoding="utf-8")
                ctx.notes.append(f"{path} changed since the install: only KernelPilot's entries were taken out")

    def next_steps(self, ctx: Context) -> list[str]:
        return ["Trust the hooks once: Codex runs a new or changed hook only after you review it. Start `codex`, "
                "type /hooks, and trust KernelPilot's Stop and PreToolUse hooks (until then Codex skips them and "
                "warns at start-up; re-installing with another Python changes them and asks again).",
                "Then type: use the kernel-agent-loop skill to optimize ... ($kernel-agent-loop also works)"]


class Kimi(Client):
    name = "kimi"

    def skill_folders(self, ctx: Context) -> list[Path]:
        return [ctx.homes.home / ".agents" / "skills", ctx.homes.config / "agents" / "skills"]

    def next_steps(self, ctx: Context) -> list[str]:
        return ["Kimi has no stop hook: the kernel-agent-loop skill runs `kernelpilot loop gate` itself at the end "
                "of each round.",
                "Start `kimi` in your project and type: use the kernel-agent-loop skill to optimize ..."]


def codex_version(codex: str | None) -> tuple[int, ...] | None:
    if codex is None:
        return None
    try:
        output = subprocess.run([codex, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", output)
    return tuple(int(part) for part in match.groups()) if match else None


CLIENT_TYPES: dict[str, type[Client]] = {cls.name: cls for cls in (ClaudeCode, Codex, Kimi)}


@dataclass
class Outcome:
    client: str
    action: str  # "installed", "unchanged", "uninstalled", "not installed", "dry run"
    steps: list[str]
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_python(python: str, root: Path) -> None:
    """The recorded Python must import kernelpilot on its own: hooks run it without this shell's PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        result = subprocess.run([python, "-c", "import kernelpilot"], capture_output=True, text=True, env=env,
                                timeout=120, cwd="/")
    except OSError as exc:
        raise KernelPilotError(f"cannot run {python}: {exc}") from None
    if result.returncode != 0:
        raise KernelPilotError(f"{python} cannot import kernelpilot by itself; install it there first: "
                               f"{python} -m pip install -e {root}")


def install(client: str, ctx: Context, dry_run: bool = False) -> Outcome:
    ctx.bundle.check()
    impl = CLIENT_TYPES[client]()
    steps = impl.steps(ctx)
    descriptions = [description for description, _ in steps]
    if dry_run:
        return Outcome(client, "dry run", descriptions, notes=impl.next_steps(ctx))
    check_python(ctx.python, ctx.bundle.root)
    ctx.skills = rendered_skills(ctx.bundle, {"KERNELPILOT_ROOT": str(ctx.bundle.root),
                                              "HUMANIZE_RUNTIME_ROOT": str(ctx.bundle.plugin),
                                              "KERNELPILOT_PYTHON": ctx.python})
    ctx.journal = ctx.homes.journal(client)
    before = {path: entry.after for path, entry in ctx.journal.entries.items()}
    for _, run in steps:
        run(ctx)
    ctx.journal.save()
    changed = sorted(path for path, entry in ctx.journal.entries.items() if before.get(path, "-") != entry.after)
    return Outcome(client, "installed" if changed else "unchanged", descriptions, changed,
                   impl.next_steps(ctx))


def uninstall(client: str, ctx: Context, dry_run: bool = False) -> Outcome:
    journal = ctx.homes.journal(client)
    if not journal.exists:
        return Outcome(client, "not installed", [])
    paths = sorted(journal.entries)
    if dry_run:
        return Outcome(client, "dry run", [f"restore or remove {path}" for path in paths])
    ctx.journal = journal
    impl = CLIENT_TYPES[client]()
    impl.before_undo(ctx)
    others = [other for name in CLIENTS if name != client and (other := ctx.homes.journal(name)).exists]
    kept = journal.undo(others)
    return Outcome(client, "uninstalled", [f"restore or remove {path}" for path in paths], paths, ctx.notes + kept)
