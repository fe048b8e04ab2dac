"""Helpers for the installer tests: throwaway homes, the installers run as a user runs them, tree snapshots."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def client_env(home: Path) -> dict[str, str]:
    """An environment whose every client folder lies under `home`, running this checkout's kernelpilot."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "KERNELPILOT_CONFIG_DIR", "KERNELPILOT_PYTHON")}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "CODEX_HOME": str(home / ".codex"),
            "PYTHONPATH": str(REPO / "src"), "KERNELPILOT_PYTHON": sys.executable,
            "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


def run(command: list[str], home: Path, check: bool = True, cwd: Path | None = None,
        timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, env=client_env(home), cwd=cwd or home,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def installer(home: Path, client: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    script = REPO / "install" / (f"install-skills-{client}.sh" if client != "all" else "install-skill.sh")
    extra = ["--target", "all"] if client == "all" else []
    return run([str(script), *extra, "--home", str(home), *args], home, check=check)


def snapshot(home: Path) -> dict[str, tuple]:
    """Every path under the home with its type, permission bits and content hash."""
    tree = {}
    for path in sorted(home.rglob("*")):
        info = path.lstat()
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        tree[str(path.relative_to(home))] = (path.is_dir(), oct(info.st_mode & 0o777), content)
    return tree


def make_home(tmp_path: Path) -> Path:
    """A throwaway home that already holds the user's own Codex settings, which the installers must keep."""
    root = tmp_path / "home"
    (root / ".codex").mkdir(parents=True)
    (root / ".codex" / "config.toml").write_text('model = "gpt-5"\n\n[features]\nweb_search = true\n')
    hooks = root / ".codex" / "hooks.json"
    hooks.write_text('{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]}}\n')
    hooks.chmod(0o640)
    (root / "project").mkdir()
    return root
