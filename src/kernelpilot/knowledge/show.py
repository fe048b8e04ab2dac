"""`get`: one document in full, found by any of the names people use for it."""

from __future__ import annotations

from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.bundles import DIFF, ORIGIN, PAGE, SNAPSHOTS, read_json_file
from kernelpilot.knowledge.index import Index
from kernelpilot.knowledge.pages import REFERENCE_PREFIX, WIKI_PREFIX, parse_pr_ref, pr_id, read_wiki_page


def resolve(index: Index, name: str) -> dict:
    """Exact id, a wiki or reference name without its prefix, or a PR as owner/name#N or its URL."""
    pr = parse_pr_ref(name)
    candidates = [name, WIKI_PREFIX + name, REFERENCE_PREFIX + name, *([pr_id(*pr)] if pr else [])]
    for candidate in candidates:
        found = index.lookup(candidate)
        if found:
            return found
    raise KernelPilotError(f"no document {name!r} in the index (try `kernelpilot knowledge query`)")


def detail(index: Index, name: str, diff: bool = False, files: bool = False, follow_sources: bool = False) -> dict:
    found = resolve(index, name)
    kind = found["type"]
    if kind == "pr":
        folder = Path(found["location"])
        page = read_json_file(folder / PAGE)
        found |= {"body": page["body"], "merged_at": page["merged_at"], "head_sha": page["head_sha"],
                  "origin": read_json_file(folder / ORIGIN)}
        if files:
            snapshots = folder / SNAPSHOTS
            found["files"] = [entry | {"snapshot": str(snapshots / entry["path"])
                                       if (snapshots / entry["path"]).is_file() else None}
                              for entry in page["changed_paths"]]
        if diff:
            diff_file = folder / DIFF
            found["diff"] = diff_file.read_text(encoding="utf-8", errors="replace") if diff_file.is_file() else None
    elif kind == "wiki":
        page = read_wiki_page(Path(found["location"]))
        found |= {"meta": page.meta, "body": page.body}
        if follow_sources:
            found["sources"] = [_source(index, source) for source in page.meta["sources"]]
    elif kind == "source":
        found["text"] = Path(found["location"]).read_text(encoding="utf-8", errors="replace")
    return found


def _source(index: Index, source: str) -> dict:
    found = index.lookup(source) or (index.lookup(pr_id(*parse_pr_ref(source))) if parse_pr_ref(source) else None)
    if found is None:
        return {"id": source, "resolved": False}
    return {"id": found["id"], "resolved": True, "title": found["title"], "url": found["url"], "date": found["date"]}
