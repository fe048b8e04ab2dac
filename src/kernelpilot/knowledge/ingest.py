"""Filling the corpus: PR evidence from JSONL metadata records and from a local clone's history.
(GitHub's REST API is the third way in; see github.py, which shares `assemble` and `store`.)"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import read_jsonl
from kernelpilot.knowledge.bundles import PAGE, Evidence, bundle_path, completeness_problems, write_bundle
from kernelpilot.knowledge.catalog import check_repo_name, load_catalog
from kernelpilot.knowledge.infer import load_inferrer, split_diff
from kernelpilot.knowledge.layout import DataRoot
from kernelpilot.knowledge.pages import make_pr_page
from kernelpilot.knowledge.vocab import load_vocabulary
from kernelpilot.schemas import schema_errors

MAX_SNAPSHOT_BYTES = 1 << 20
SQUASH_SUBJECT = re.compile(r"^(?P<title>.*?)\s*\(#(?P<number>[0-9]+)\)\s*$")


@dataclass
class IngestReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not kernel-relevant, or already complete

    def as_dict(self) -> dict:
        return {"written": len(self.written), "unchanged": len(self.unchanged), "skipped": len(self.skipped)}


def assemble(repo: str, number: int, title: str, body: str, merged_at: str, head_sha: str,
             changed_paths: list[dict], source: str, location: str, diff: str | None = None,
             snapshots: dict[str, bytes] | None = None, missing=()) -> Evidence:
    """Evidence with tags inferred from paths, title, body, the diff and the snapshots."""
    code = split_diff(diff) if diff else {}
    for path, data in (snapshots or {}).items():
        code[path] = data.decode("utf-8", errors="replace")
    paths = [entry["path"] for entry in changed_paths]
    terms = load_inferrer().infer(title, body or "", paths, code)
    page = make_pr_page(repo, number, title, body or "", merged_at, head_sha, changed_paths, terms, load_vocabulary())
    return Evidence(page, source, location, diff, snapshots, tuple(missing))


def store(root: DataRoot, evidence: Evidence, report: IngestReport) -> None:
    """Write the bundle unless an identical complete one is already there."""
    folder = bundle_path(root, evidence.page["repo"], evidence.page["number"])
    page_bytes = (json.dumps(evidence.page, indent=1) + "\n").encode()
    if (folder / PAGE).is_file() and (folder / PAGE).read_bytes() == page_bytes and not completeness_problems(folder):
        report.unchanged.append(evidence.page["id"])
        return
    write_bundle(root, evidence)
    report.written.append(evidence.page["id"])


def ingest_jsonl(root: DataRoot, file: Path) -> IngestReport:
    """Every record is checked before anything is written: bad input leaves the corpus untouched."""
    if not file.is_file():
        raise KernelPilotError(f"{file}: no such file")
    records = []
    for line, record in read_jsonl(file):
        problems = schema_errors(record, "knowledge-pr-record")
        if problems:
            raise KernelPilotError(f"{file}:{line}: {problems[0]} (nothing was ingested)")
        records.append((line, record))
    report = IngestReport()
    for line, record in records:
        changed = [{"path": f["path"], "added": f["added"] or 0, "deleted": f["deleted"] or 0} for f in record["files"]]
        evidence = assemble(record["repo"], record["number"], record["title"], record.get("body") or "",
                            record["merged_at"], record["sha"], changed, "jsonl", f"{file.resolve()}:{line}")
        store(root, evidence, report)
    return report


def _git(clone: Path, *args: str, binary: bool = False):
    result = subprocess.run(["git", "-C", str(clone), *args], capture_output=True)
    if result.returncode != 0:
        first = (result.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[0]
        raise KernelPilotError(f"git {args[0]} in {clone}: {first}")
    return result.stdout if binary else result.stdout.decode("utf-8", errors="replace")


def _numstat(clone: Path, sha: str) -> list[dict]:
    changed = []
    for row in _git(clone, "show", "--no-renames", "--numstat", "--format=", sha).splitlines():
        added, deleted, path = row.split("\t", 2)
        changed.append({"path": path, "added": int(added) if added.isdigit() else 0,
                        "deleted": int(deleted) if deleted.isdigit() else 0})
    return changed


def _snapshots(clone: Path, sha: str, paths: list[str]) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    present = set(_git(clone, "ls-tree", "-r", "--name-only", sha, "--", *paths).splitlines()) if paths else set()
    snapshots, missing = {}, []
    for path in paths:
        if path not in present:
            missing.append((path, "deleted at the head commit"))
            continue
        data = _git(clone, "show", f"{sha}:{path}", binary=True)
        if len(data) > MAX_SNAPSHOT_BYTES:
            missing.append((path, f"larger than {MAX_SNAPSHOT_BYTES} bytes"))
        else:
            snapshots[path] = data
    return snapshots, missing


def ingest_git(root: DataRoot, clone: Path, repo: str, since: str | None = None) -> IngestReport:
    """Bundles from squash-merged "(#N)" commits on the first-parent history that touch kernel paths."""
    check_repo_name(repo)
    if not (clone / ".git").exists():
        raise KernelPilotError(f"{clone}: not a git clone")
    rules = load_catalog().rules_for(repo)
    log_args = ["log", "--first-parent", "--format=%H%x1f%cI%x1f%s%x1f%b%x1e"]
    if since:
        log_args.append(f"--since={since}")
    report = IngestReport()
    for entry in _git(clone, *log_args, "HEAD").split("\x1e"):
        if not entry.strip():
            continue
        sha, committed, subject, body = entry.strip("\n").split("\x1f", 3)
        match = SQUASH_SUBJECT.match(subject)
        if not match:
            continue
        changed = _numstat(clone, sha)
        kernel_paths = [c["path"] for c in changed if rules.is_kernel_path(c["path"])]
        if not kernel_paths:
            report.skipped.append(f"{repo}#{match['number']}")
            continue
        diff = _git(clone, "show", "--no-renames", "--format=", "--patch", sha)
        snapshots, missing = _snapshots(clone, sha, kernel_paths)
        evidence = assemble(repo, int(match["number"]), match["title"], body.strip(), committed, sha, changed,
                            "git", f"{clone.resolve()}@{sha}", diff, snapshots, missing)
        store(root, evidence, report)
    return report
