"""Source maps of installed kernel packages (triton, flashinfer, sglang, flash-attn, ...), so that `query` and
`grep` reach the implementations on this machine. A map lists files and hashes; the text stays where it is."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_json
from kernelpilot.knowledge.catalog import load_catalog
from kernelpilot.knowledge.infer import load_inferrer
from kernelpilot.knowledge.layout import DataRoot

MAX_SOURCE_BYTES = 512 * 1024


def package_location(package: str) -> Path | None:
    """Where an importable package lives, found without importing it (None when not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin and spec.origin != "built-in" else None


@lru_cache(maxsize=1)
def _distributions_by_package() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distribution(package: str) -> tuple[str | None, str | None]:
    for name in _distributions_by_package().get(package.split(".")[0], []):
        return name, importlib.metadata.version(name)
    return None, None


def map_package(package: str, repo: str, location: Path) -> dict:
    rules = load_catalog().rules_for(repo)
    inferrer = load_inferrer()
    files = []
    for folder, subfolders, names in os.walk(location):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            full = Path(folder, name)
            relative = full.relative_to(location).as_posix()
            if not rules.is_source_file(relative) or full.stat().st_size > MAX_SOURCE_BYTES:
                continue
            data = full.read_bytes()
            files.append({"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                          "languages": sorted(inferrer.file_languages(relative, data.decode("utf-8", "replace")))})
    distribution, version = _distribution(package)
    return {"package": package, "distribution": distribution, "version": version, "location": str(location),
            "repo": repo, "mapped_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "files": files}


def source_map_path(root: DataRoot, package: str) -> Path:
    return root.source_maps / f"{package}.json"


def index_installed(root: DataRoot, only: list[str] | None = None) -> list[dict]:
    """Map every catalog package that is importable here; drop maps of packages no longer installed."""
    known = load_catalog().packages()
    wanted = only or sorted(known)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise KernelPilotError(f"not in the catalog's packages (knowledge/data/repos.yaml): {', '.join(unknown)}")
    summary = []
    for package in wanted:
        location = package_location(package)
        target = source_map_path(root, package)
        if location is None:
            target.unlink(missing_ok=True)
            continue
        source_map = map_package(package, known[package], location)
        atomic_write_json(target, source_map)
        summary.append({"package": package, "version": source_map["version"], "files": len(source_map["files"]),
                        "location": str(location)})
    return summary
