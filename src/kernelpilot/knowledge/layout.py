"""Where the corpus lives: a data root outside the repository, and the repository's own knowledge/ folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kernelpilot.errors import KernelPilotError

ROOT_ENV = "KERNELPILOT_KNOWLEDGE_ROOT"
AUTHORED_ENV = "KERNELPILOT_KNOWLEDGE_DIR"


@dataclass(frozen=True)
class DataRoot:
    """The folder holding fetched evidence: bundles, source maps, HTTP cache and the index."""

    path: Path

    @property
    def bundles(self) -> Path:
        return self.path / "bundles"

    @property
    def source_maps(self) -> Path:
        return self.path / "sources"

    @property
    def http_cache(self) -> Path:
        return self.path / "cache" / "http"

    @property
    def user_wiki(self) -> Path:
        """Pages a user writes for their own site, indexed beside the shipped wiki."""
        return self.path / "wiki"

    @property
    def index_file(self) -> Path:
        return self.path / "index.sqlite3"

    def source_map_files(self) -> list[Path]:
        return sorted(self.source_maps.glob("*.json")) if self.source_maps.is_dir() else []


def data_root(explicit: str | os.PathLike | None = None) -> DataRoot:
    """--root, else $KERNELPILOT_KNOWLEDGE_ROOT, else the platform's per-user data folder."""
    if explicit:
        return DataRoot(Path(explicit).expanduser().resolve())
    if os.environ.get(ROOT_ENV):
        return DataRoot(Path(os.environ[ROOT_ENV]).expanduser().resolve())
    from platformdirs import user_data_dir

    return DataRoot(Path(user_data_dir("kernelpilot", appauthor=False)) / "knowledge")


@dataclass(frozen=True)
class AuthoredDir:
    """The repository's knowledge/ folder: vocabulary and rule data, the wiki, the evaluation set."""

    path: Path

    @property
    def data(self) -> Path:
        return self.path / "data"

    @property
    def wiki(self) -> Path:
        return self.path / "wiki"

    @property
    def eval(self) -> Path:
        return self.path / "eval"


def authored_dir() -> AuthoredDir:
    """$KERNELPILOT_KNOWLEDGE_DIR, else knowledge/ at the root of the checkout this package runs from."""
    configured = os.environ.get(AUTHORED_ENV)
    path = Path(configured) if configured else Path(__file__).resolve().parents[3] / "knowledge"
    if not (path / "data" / "tags.yaml").is_file():
        raise KernelPilotError(f"knowledge data not found at {path} (set {AUTHORED_ENV} to the knowledge/ folder)")
    return AuthoredDir(path)


def wiki_files(root: DataRoot, authored: AuthoredDir) -> list[Path]:
    """The shipped wiki's pages, then the user's own, each folder in name order."""
    return [path for folder in (authored.wiki, root.user_wiki) if folder.is_dir() for path in sorted(folder.glob("*.md"))]


def read_checked_yaml(path: Path, schema: str):
    """A YAML data file, checked against its schema (a one-line error names the file and the first problem)."""
    from kernelpilot.fsutil import read_yaml
    from kernelpilot.schemas import validate

    data = read_yaml(path)
    validate(data, schema, str(path))
    return data
