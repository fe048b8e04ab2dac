"""Regular-expression search over the corpus text itself: pages, diffs, snapshots and installed sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_json
from kernelpilot.knowledge.bundles import DIFF, PAGE, SNAPSHOTS, bundle_id, iter_bundle_paths
from kernelpilot.knowledge.layout import AuthoredDir, DataRoot, wiki_files
from kernelpilot.knowledge.pages import SOURCE_PREFIX, WIKI_PREFIX

KINDS = ("pages", "diffs", "snapshots", "sources")


@dataclass(frozen=True)
class Text:
    id: str
    kind: str
    file: str
    lines: list[str]


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _texts(root: DataRoot, authored: AuthoredDir, kinds: set[str]) -> Iterator[Text]:
    if "pages" in kinds:
        for path in wiki_files(root, authored):
            yield Text(WIKI_PREFIX + path.stem, "pages", str(path), _read_lines(path))
        yield Text("references", "pages", str(authored.data / "sources.yaml"), _read_lines(authored.data / "sources.yaml"))
    bundles = list(iter_bundle_paths(root)) if kinds & {"pages", "diffs", "snapshots"} else []
    for folder in bundles:
        if "pages" in kinds and (folder / PAGE).is_file():
            page = read_json(folder / PAGE)
            yield Text(page["id"], "pages", str(folder / PAGE), [page["title"], *page["body"].splitlines()])
        if "diffs" in kinds and (folder / DIFF).is_file():
            yield Text(bundle_id(folder), "diffs", str(folder / DIFF), _read_lines(folder / DIFF))
        if "snapshots" in kinds and (folder / SNAPSHOTS).is_dir():
            for path in sorted(p for p in (folder / SNAPSHOTS).rglob("*") if p.is_file()):
                yield Text(bundle_id(folder), "snapshots", str(path), _read_lines(path))
    if "sources" in kinds:
        for map_file in root.source_map_files():
            source_map = read_json(map_file)
            for entry in source_map["files"]:
                path = Path(source_map["location"]) / entry["path"]
                if path.is_file():
                    yield Text(f"{SOURCE_PREFIX}{source_map['package']}/{entry['path']}", "sources", str(path),
                               _read_lines(path))


def grep(root: DataRoot, authored: AuthoredDir, pattern: str, only: list[str] | None = None,
         context: int = 0, max_matches: int = 200, ignore_case: bool = False) -> dict:
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise KernelPilotError(f"bad regular expression {pattern!r}: {exc}") from None
    if context < 0:
        raise KernelPilotError("--context must be 0 or more")
    matches, truncated = [], False
    for text in _texts(root, authored, set(only or KINDS)):
        for number, line in enumerate(text.lines):
            if not regex.search(line):
                continue
            if len(matches) >= max_matches:
                truncated = True
                break
            matches.append({"id": text.id, "kind": text.kind, "file": text.file, "line": number + 1, "text": line,
                            "before": text.lines[max(0, number - context):number],
                            "after": text.lines[number + 1:number + 1 + context]})
        if truncated:
            break
    return {"matches": matches, "truncated": truncated}
