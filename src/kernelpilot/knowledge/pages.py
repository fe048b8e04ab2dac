"""Page formats and identifiers: PR evidence pages (page.json in a bundle), authored wiki pages (Markdown
with YAML front matter) and reference pages (official docs, papers, blogs listed in sources.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.layout import read_checked_yaml
from kernelpilot.knowledge.vocab import FACET_FIELDS, Vocabulary
from kernelpilot.schemas import schema_errors

TERM_FIELDS = (*FACET_FIELDS, "tags")
PR_REF = re.compile(r"^(?:https://github\.com/)?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:#|/pull/)([0-9]+)$")
WIKI_PREFIX, REFERENCE_PREFIX, SOURCE_PREFIX = "wiki:", "ref:", "src:"


def pr_id(repo: str, number: int) -> str:
    return f"{repo}#{number}"


def pr_url(repo: str, number: int) -> str:
    return f"https://github.com/{repo}/pull/{number}"


def parse_pr_ref(text: str) -> tuple[str, int] | None:
    """(repo, number) for 'owner/name#N' or a GitHub pull URL; None for anything else."""
    match = PR_REF.match(text.strip())
    return (match.group(1), int(match.group(2))) if match else None


def make_pr_page(repo: str, number: int, title: str, body: str, merged_at: str, head_sha: str,
                 changed_paths: list[dict], terms: set[str], vocabulary: Vocabulary) -> dict:
    fields, _ = vocabulary.classify(terms, pr_id(repo, number))
    return {
        "id": pr_id(repo, number), "type": "pr", "repo": repo, "number": number,
        "title": title.strip() or f"PR {number}", "body": body or "", "url": pr_url(repo, number),
        "merged_at": merged_at, "head_sha": head_sha, "changed_paths": changed_paths, **fields,
    }


def term_problems(page: dict, vocabulary: Vocabulary, where: str) -> list[str]:
    """Each term field must hold canonical vocabulary terms of its own facet."""
    problems = []
    for field in TERM_FIELDS:
        for name in page.get(field, []):
            term = vocabulary.canonical(name)
            if term is None:
                problems.append(f"{where}: {field}: {name!r} is not in the vocabulary (knowledge/data/tags.yaml)")
            elif term != name:
                problems.append(f"{where}: {field}: {name!r} is an alias; write {term!r}")
            elif field != "tags" and vocabulary.field_for(term) != field:
                problems.append(f"{where}: {field}: {name!r} belongs in {vocabulary.field_for(term)}")
    return problems


def pr_page_problems(page, vocabulary: Vocabulary, where: str) -> list[str]:
    problems = [f"{where}: {problem}" for problem in schema_errors(page, "knowledge-pr-page")]
    return problems or term_problems(page, vocabulary, where)


@dataclass(frozen=True)
class WikiPage:
    slug: str
    path: Path
    meta: dict
    body: str

    @property
    def id(self) -> str:
        return WIKI_PREFIX + self.slug


def read_wiki_page(path: Path) -> WikiPage:
    """Parse front matter and body; a page without well-formed front matter is a one-line error."""
    import yaml

    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise KernelPilotError(f"{path}:1: a wiki page starts with '---' and YAML front matter")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise KernelPilotError(f"{path}: front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 2}" if mark is not None else ""
        raise KernelPilotError(f"{path}{line}: invalid front matter ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(meta, dict):
        raise KernelPilotError(f"{path}: front matter must be a mapping")
    return WikiPage(path.stem, path, meta, text[end + 5:])


def wiki_page_problems(page: WikiPage, vocabulary: Vocabulary) -> list[str]:
    where = str(page.path)
    problems = [f"{where}: {problem}" for problem in schema_errors(page.meta, "knowledge-wiki-page")]
    return problems or term_problems(page.meta, vocabulary, where)


def load_references(data_dir: Path) -> dict[str, dict]:
    return read_checked_yaml(data_dir / "sources.yaml", "knowledge-references")["references"]
