"""Every indexable document, grouped by the file (or bundle folder) it comes from.

An origin is cheap to enumerate and carries a stat key; only origins whose key changed are loaded again,
and only documents whose content hash changed are re-indexed. Loading an origin never raises for bad
content: it returns the documents it could read and one problem line for each it could not.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.bundles import DIFF, PAGE, bundle_problems, iter_bundle_paths, read_json_file
from kernelpilot.knowledge.installed import MAX_SOURCE_BYTES
from kernelpilot.knowledge.layout import AuthoredDir, DataRoot, wiki_files
from kernelpilot.knowledge.pages import (REFERENCE_PREFIX, SOURCE_PREFIX, TERM_FIELDS, load_references,
                                         read_wiki_page, wiki_page_problems)
from kernelpilot.knowledge.vocab import Vocabulary, load_vocabulary
from kernelpilot.schemas import schema_errors

MAX_INDEXED_CODE = 64 * 1024  # of a diff's added lines, per PR


@dataclass
class Document:
    id: str
    type: str  # pr | wiki | reference | source
    title: str
    body: str
    location: str  # the file to open for the full text
    terms: dict[str, list[str]] = field(default_factory=dict)  # page field -> canonical terms
    paths: str = ""
    code: str = ""
    repo: str | None = None
    date: str | None = None
    url: str | None = None

    @property
    def hash(self) -> str:
        digest = hashlib.sha256()
        for part in (self.type, self.title, self.body, self.paths, self.code, self.repo or "", self.date or "",
                     self.url or "", self.location, json.dumps(self.terms, sort_keys=True)):
            digest.update(part.encode("utf-8", "replace") + b"\0")
        return digest.hexdigest()


@dataclass(frozen=True)
class Origin:
    key: str
    stat: str
    load: Callable[[], tuple[list[Document], list[str]]]


def _stat_key(path: Path) -> str | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return f"{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"


def wiki_document(path: Path, vocabulary: Vocabulary) -> tuple[list[Document], list[str]]:
    try:
        page = read_wiki_page(path)
    except KernelPilotError as exc:
        return [], [str(exc)]
    problems = wiki_page_problems(page, vocabulary)
    if problems:
        return [], problems
    meta = page.meta
    body = "\n".join([meta["summary"], *meta.get("symptoms", []), page.body])
    return [Document(page.id, "wiki", meta["title"], body, str(path),
                     terms={f: meta.get(f, []) for f in TERM_FIELDS if meta.get(f)})], []


def reference_documents(data_dir: Path) -> tuple[list[Document], list[str]]:
    try:
        references = load_references(data_dir)
    except KernelPilotError as exc:
        return [], [str(exc)]
    return [Document(REFERENCE_PREFIX + key, "reference", entry["title"], entry["summary"],
                     str(data_dir / "sources.yaml"), terms={"tags": entry.get("tags", [])},
                     repo=None, url=entry["url"])
            for key, entry in references.items()], []


def added_lines(diff: str) -> str:
    lines = (line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    return "\n".join(lines)[:MAX_INDEXED_CODE]


def pr_document(folder: Path, vocabulary: Vocabulary) -> tuple[list[Document], list[str]]:
    """A bundle becomes a document only when it is complete and valid."""
    problems = bundle_problems(folder, vocabulary)
    if problems:
        return [], problems
    page = read_json_file(folder / PAGE)
    diff_file = folder / DIFF
    code = added_lines(diff_file.read_text(encoding="utf-8", errors="replace")) if diff_file.is_file() else ""
    return [Document(page["id"], "pr", page["title"], page["body"], str(folder),
                     terms={f: page[f] for f in TERM_FIELDS if page[f]},
                     paths="\n".join(entry["path"] for entry in page["changed_paths"]), code=code,
                     repo=page["repo"], date=page["merged_at"][:10], url=page["url"])], []


def source_documents(map_file: Path) -> tuple[list[Document], list[str]]:
    try:
        source_map = read_json_file(map_file)
    except KernelPilotError as exc:
        return [], [str(exc)]
    problems = [f"{map_file}: {p}" for p in schema_errors(source_map, "knowledge-source-map")]
    if problems:
        return [], problems
    documents, problems = [], []
    location = Path(source_map["location"])
    for entry in source_map["files"]:
        path = location / entry["path"]
        try:
            text = path.read_bytes()[:MAX_SOURCE_BYTES].decode("utf-8", errors="replace")
        except OSError:
            problems.append(f"{map_file}: {path} is gone (run `kernelpilot knowledge index-installed` again)")
            continue
        package_path = f"{source_map['package']}/{entry['path']}"
        documents.append(Document(SOURCE_PREFIX + package_path, "source", package_path, "", str(path),
                                  terms={"languages": entry["languages"]}, paths=package_path, code=text,
                                  repo=source_map["repo"]))
    return documents, problems


def origins(root: DataRoot, authored: AuthoredDir, vocabulary: Vocabulary | None = None) -> list[Origin]:
    """Every origin of documents, with its stat key; enumerating them reads no file contents."""
    vocabulary = vocabulary or load_vocabulary(authored.data)
    found: list[Origin] = []

    def add(path: Path, load) -> None:
        stat = _stat_key(path)
        if stat is not None:
            found.append(Origin(str(path), stat, load))

    for path in wiki_files(root, authored):
        add(path, lambda path=path: wiki_document(path, vocabulary))
    add(authored.data / "sources.yaml", lambda: reference_documents(authored.data))
    for folder in iter_bundle_paths(root):
        add(folder, lambda folder=folder: pr_document(folder, vocabulary))
    for map_file in root.source_map_files():
        add(map_file, lambda map_file=map_file: source_documents(map_file))
    return found
