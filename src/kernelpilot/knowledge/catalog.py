"""The upstream repository catalog (repos.yaml): which paths and titles make a PR kernel-relevant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.layout import authored_dir, read_checked_yaml

REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def check_repo_name(repo: str) -> str:
    if not REPO_NAME.match(repo or ""):
        raise KernelPilotError(f"repository must be OWNER/NAME, got {repo!r}")
    return repo


def matches_any(path: str, globs) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in globs)


@dataclass(frozen=True)
class RepoRules:
    repo: str
    name: str
    packages: tuple[str, ...]
    kernel_paths: tuple[str, ...]
    exclude_paths: tuple[str, ...]
    keywords: tuple[re.Pattern, ...]
    source_globs: tuple[str, ...]
    source_exclude: tuple[str, ...]

    def is_kernel_path(self, path: str) -> bool:
        return matches_any(path, self.kernel_paths) and not matches_any(path, self.exclude_paths)

    def is_kernel_pr(self, title: str, paths) -> bool:
        return any(self.is_kernel_path(path) for path in paths) or any(k.search(title) for k in self.keywords)

    def is_source_file(self, relative_path: str) -> bool:
        return matches_any(relative_path, self.source_globs) and not matches_any(relative_path, self.source_exclude)


class Catalog:
    def __init__(self, document: dict, source: str):
        self.defaults = document["defaults"]
        self.entries = document["repos"]
        self.source = source

    def rules_for(self, repo: str) -> RepoRules:
        """The repository's rules; a repository missing from the catalog gets the defaults."""
        check_repo_name(repo)
        entry = {**self.defaults, **self.entries.get(repo, {})}
        try:
            keywords = tuple(re.compile(pattern, re.IGNORECASE) for pattern in entry["keywords"])
        except re.error as exc:
            raise KernelPilotError(f"{self.source}: bad keyword pattern for {repo}: {exc}") from None
        return RepoRules(
            repo=repo,
            name=entry.get("name", repo),
            packages=tuple(entry.get("packages", ())),
            kernel_paths=tuple(entry["kernel_paths"]),
            exclude_paths=tuple(entry["exclude_paths"]),
            keywords=keywords,
            source_globs=tuple(entry["source_globs"]),
            source_exclude=tuple(entry["source_exclude"]),
        )

    def packages(self) -> dict[str, str]:
        """Importable package name -> the upstream repository it comes from."""
        return {package: repo for repo, entry in self.entries.items() for package in entry.get("packages", ())}


@lru_cache(maxsize=None)
def load_catalog(data_dir: Path | None = None) -> Catalog:
    path = (data_dir or authored_dir().data) / "repos.yaml"
    return Catalog(read_checked_yaml(path, "knowledge-repos"), str(path))
