"""Whole-corpus checks: data files, schemas, vocabulary, links and sources, bundle completeness, index freshness."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.bundles import bundle_path, bundle_problems, iter_bundle_paths, leftover_paths, repo_folder
from kernelpilot.knowledge.catalog import load_catalog
from kernelpilot.knowledge.corpus import origins, source_documents
from kernelpilot.knowledge.infer import load_inferrer
from kernelpilot.knowledge.layout import AuthoredDir, DataRoot, wiki_files
from kernelpilot.knowledge.pages import (REFERENCE_PREFIX, WikiPage, load_references, parse_pr_ref, read_wiki_page,
                                         wiki_page_problems)
from kernelpilot.knowledge.vocab import Vocabulary, load_vocabulary


@dataclass
class Validation:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": not self.problems, "checked": self.checked, "problems": self.problems,
                "warnings": self.warnings, "seconds": self.seconds}


def validate_corpus(root: DataRoot, authored: AuthoredDir, strict: bool = False) -> Validation:
    started = time.perf_counter()
    result = Validation()
    try:
        vocabulary = load_vocabulary(authored.data)
        load_catalog(authored.data)
        load_inferrer(authored.data)
        references = load_references(authored.data)
    except KernelPilotError as exc:
        result.problems.append(str(exc))
        return result
    pages = _wiki_pages(root, authored, vocabulary, result)
    _check_links(root, pages, references, strict, result)
    bundles = list(iter_bundle_paths(root))
    for folder in bundles:
        result.problems.extend(bundle_problems(folder, vocabulary))
    for leftover in leftover_paths(root):
        result.problems.append(f"{leftover}: left by an interrupted write (not part of the corpus; delete it)")
    maps = root.source_map_files()
    for map_file in maps:
        result.problems.extend(source_documents(map_file)[1])
    _check_index(root, authored, vocabulary, result)
    result.checked = {"wiki_pages": len(pages), "references": len(references), "bundles": len(bundles),
                      "source_maps": len(maps)}
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _wiki_pages(root: DataRoot, authored: AuthoredDir, vocabulary: Vocabulary, result: Validation) -> list[WikiPage]:
    pages, seen = [], {}
    for path in wiki_files(root, authored):
        try:
            page = read_wiki_page(path)
        except KernelPilotError as exc:
            result.problems.append(str(exc))
            continue
        problems = wiki_page_problems(page, vocabulary)
        result.problems.extend(problems)
        if page.slug in seen:
            result.problems.append(f"{path}: page name {page.slug!r} is also used by {seen[page.slug]}")
        seen[page.slug] = path
        if not problems:
            pages.append(page)
    return pages


def _check_links(root: DataRoot, pages: list[WikiPage], references: dict, strict: bool, result: Validation) -> None:
    slugs = {page.slug for page in pages}
    for page in pages:
        for related in page.meta.get("related", []):
            if related not in slugs:
                result.problems.append(f"{page.path}: related page {related!r} does not exist")
        for source in page.meta["sources"]:
            if source.startswith(REFERENCE_PREFIX):
                if source[len(REFERENCE_PREFIX):] not in references:
                    result.problems.append(f"{page.path}: source {source!r} is not in knowledge/data/sources.yaml")
                continue
            repo, number = parse_pr_ref(source)
            if bundle_path(root, repo, number).is_dir():
                continue
            if repo_folder(root, repo).is_dir() or strict:
                result.problems.append(f"{page.path}: source {source} is not in the corpus")
            else:
                result.warnings.append(f"{page.path}: source {source} unresolved ({repo} is not ingested yet)")


def _check_index(root: DataRoot, authored: AuthoredDir, vocabulary: Vocabulary, result: Validation) -> None:
    if not root.index_file.exists():
        result.warnings.append(f"{root.index_file}: no index yet (run `kernelpilot knowledge index`)")
        return
    connection = sqlite3.connect(f"file:{root.index_file}?mode=ro", uri=True)
    try:
        indexed = dict(connection.execute("SELECT path, stat FROM origins"))
    except sqlite3.DatabaseError as exc:
        result.problems.append(f"{root.index_file}: unreadable index ({exc}); rebuild with `kernelpilot knowledge index --full`")
        return
    finally:
        connection.close()
    current = {origin.key: origin.stat for origin in origins(root, authored, vocabulary)}
    stale = sum(1 for key, stat in current.items() if indexed.get(key) != stat) + len(set(indexed) - set(current))
    if stale:
        result.problems.append(f"{root.index_file}: {stale} changed files not indexed yet (run `kernelpilot knowledge index`)")
