"""PR evidence bundles: page.json, diff.patch, snapshots/<path> and origin.json, written all-or-nothing.

A bundle is assembled in a staging folder beside its final place and renamed into place in one step, so a
reader sees either the previous complete bundle or the new complete one, never a partial one. origin.json
records where the evidence came from and the SHA-256 of every artifact, which is what "complete" means.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from kernelpilot import __version__
from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_bytes, read_json
from kernelpilot.knowledge.layout import DataRoot
from kernelpilot.knowledge.pages import pr_id, pr_page_problems
from kernelpilot.knowledge.vocab import Vocabulary
from kernelpilot.schemas import schema_errors

PAGE, ORIGIN, DIFF, SNAPSHOTS = "page.json", "origin.json", "diff.patch", "snapshots"
STAGING_PREFIX, REPLACED_PREFIX = ".staging-", ".replaced-"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def repo_folder(root: DataRoot, repo: str) -> Path:
    return root.bundles / repo.replace("/", "__")


def bundle_path(root: DataRoot, repo: str, number: int) -> Path:
    return repo_folder(root, repo) / str(number)


def bundle_id(folder: Path) -> str:
    """The PR id a bundle folder stands for (bundles/<owner>__<name>/<N> -> owner/name#N)."""
    return pr_id(folder.parent.name.replace("__", "/"), int(folder.name))


def safe_relative(path: str) -> str:
    """A changed-file path usable under snapshots/ (no absolute paths, no '..')."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise KernelPilotError(f"refusing unsafe snapshot path {path!r}")
    return pure.as_posix()


@dataclass(frozen=True)
class Evidence:
    """Everything a bundle holds, before it is written."""

    page: dict
    source: str  # github-api | git | jsonl
    location: str
    diff: str | None = None
    snapshots: dict[str, bytes] | None = None
    missing: tuple[tuple[str, str], ...] = ()


def write_bundle(root: DataRoot, evidence: Evidence) -> Path:
    page = evidence.page
    final = bundle_path(root, page["repo"], page["number"])
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{page['number']}-", dir=final.parent))
    try:
        artifacts = {PAGE: _put(staging, PAGE, (json.dumps(page, indent=1) + "\n").encode())}
        if evidence.diff is not None:
            artifacts[DIFF] = _put(staging, DIFF, evidence.diff.encode())
        for path, data in sorted((evidence.snapshots or {}).items()):
            name = f"{SNAPSHOTS}/{safe_relative(path)}"
            artifacts[name] = _put(staging, name, data)
        origin = {
            "source": evidence.source, "location": evidence.location,
            "retrieved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": page["head_sha"], "tool": f"kernelpilot {__version__}", "artifacts": artifacts,
            "missing": [{"path": path, "reason": reason} for path, reason in evidence.missing],
        }
        _put(staging, ORIGIN, (json.dumps(origin, indent=1) + "\n").encode())
        _swap_into_place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _put(folder: Path, name: str, data: bytes) -> str:
    atomic_write_bytes(folder / name, data)
    return sha256_bytes(data)


def _swap_into_place(staging: Path, final: Path) -> None:
    if not final.exists():
        os.replace(staging, final)
        return
    replaced = Path(tempfile.mkdtemp(prefix=f"{REPLACED_PREFIX}{final.name}-", dir=final.parent))
    os.replace(final, replaced / "old")
    os.replace(staging, final)
    shutil.rmtree(replaced, ignore_errors=True)


def iter_bundle_paths(root: DataRoot):
    """Every bundle folder (staging and replaced folders of interrupted writes are not bundles)."""
    if not root.bundles.is_dir():
        return
    for repo_dir in sorted(root.bundles.iterdir()):
        if repo_dir.is_dir() and not repo_dir.name.startswith("."):
            for entry in os.scandir(repo_dir):
                if entry.name.isdigit() and entry.is_dir():
                    yield Path(entry.path)


def leftover_paths(root: DataRoot) -> list[Path]:
    if not root.bundles.is_dir():
        return []
    return sorted(p for repo_dir in root.bundles.iterdir() if repo_dir.is_dir() for p in repo_dir.iterdir()
                  if p.name.startswith((STAGING_PREFIX, REPLACED_PREFIX)))


def read_json_file(path: Path):
    """fsutil.read_json, with a bundle's wording: an absent file is `missing` (its bundle is incomplete)."""
    if not path.is_file():
        raise KernelPilotError(f"{path}: missing")
    return read_json(path)


def completeness_problems(folder: Path) -> list[str]:
    """Origin record present and valid, and every artifact it lists present with its recorded hash."""
    try:
        origin = read_json_file(folder / ORIGIN)
    except KernelPilotError as exc:
        return [f"{exc} (incomplete bundle)"]
    problems = [f"{folder / ORIGIN}: {p}" for p in schema_errors(origin, "knowledge-origin")]
    if problems:
        return problems
    for name, digest in origin["artifacts"].items():
        artifact = folder / name
        if not artifact.is_file():
            problems.append(f"{artifact}: listed in origin.json but missing")
        elif sha256_bytes(artifact.read_bytes()) != digest:
            problems.append(f"{artifact}: content does not match origin.json (modified or truncated)")
    return problems


def bundle_problems(folder: Path, vocabulary: Vocabulary) -> list[str]:
    problems = completeness_problems(folder)
    if problems:
        return problems
    try:
        page = read_json_file(folder / PAGE)
    except KernelPilotError as exc:
        return [str(exc)]
    problems = pr_page_problems(page, vocabulary, str(folder / PAGE))
    expected = bundle_id(folder)
    if not problems and page["id"] != expected:
        problems.append(f"{folder / PAGE}: id {page['id']!r} does not match its folder ({expected})")
    return problems


def existing_head(root: DataRoot, repo: str, number: int) -> str | None:
    """The head commit of a complete bundle already on disk, for resuming."""
    folder = bundle_path(root, repo, number)
    if completeness_problems(folder):
        return None
    return read_json_file(folder / ORIGIN)["commit"]
