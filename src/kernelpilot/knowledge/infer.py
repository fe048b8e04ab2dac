"""Tag inference at ingestion: architecture, features, techniques, kernel types, languages and topics from a
PR's changed paths, title, body and code, by the rules in knowledge/data/inference.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.layout import authored_dir, read_checked_yaml
from kernelpilot.knowledge.vocab import Vocabulary, load_vocabulary

DIFF_FILE_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.MULTILINE)


def split_diff(diff: str) -> dict[str, str]:
    """A unified diff cut into one chunk per file (keyed by the new path)."""
    chunks: dict[str, str] = {}
    headers = list(DIFF_FILE_HEADER.finditer(diff))
    for here, after in zip(headers, [*headers[1:], None]):
        chunks[here.group(2)] = diff[here.start(): after.start() if after else len(diff)]
    return chunks


@dataclass(frozen=True)
class Rule:
    tag: str
    paths: tuple[re.Pattern, ...]
    title: tuple[re.Pattern, ...]
    text: tuple[re.Pattern, ...]
    diff: tuple[re.Pattern, ...]


def _compile(patterns, where: str) -> tuple[re.Pattern, ...]:
    try:
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)
    except re.error as exc:
        raise KernelPilotError(f"{where}: bad pattern ({exc})") from None


class TagInferrer:
    def __init__(self, document: dict, vocabulary: Vocabulary, source: str):
        def term(name: str, where: str) -> str:
            canonical = vocabulary.canonical(name)
            if canonical is None:
                raise KernelPilotError(f"{source}: {where} names {name!r}, which is not in the vocabulary")
            return canonical

        self.suffix_language = {suffix: term(lang, f"languages {suffix}") for suffix, lang in document["languages"].items()}
        self.content_language = {
            term(lang, f"language_content {lang}"): _compile(patterns, f"{source}: language_content {lang}")
            for lang, patterns in document.get("language_content", {}).items()
        }
        self.rules = [
            Rule(term(rule["tag"], f"rule {number}"),
                 *(_compile(rule.get(key, ()), f"{source}: rule {number} ({rule['tag']}) {key}")
                   for key in ("paths", "title", "text", "diff")))
            for number, rule in enumerate(document["rules"], start=1)
        ]

    def file_languages(self, path: str, text: str) -> set[str]:
        """Languages of one source file: by suffix, and by what its text imports or declares."""
        languages = {self.suffix_language.get(PurePosixPath(path).suffix.lower())} - {None}
        return languages | {lang for lang, patterns in self.content_language.items() if any(p.search(text) for p in patterns)}

    def infer(self, title: str, body: str, paths, code: dict[str, str] | None = None) -> set[str]:
        """Canonical terms for a PR. `code` maps changed paths to their diff chunk or snapshot text."""
        code = code or {}
        text = f"{title}\n{body}"
        joined_code = "\n".join(code.values())
        terms = {self.suffix_language[suffix] for suffix in (PurePosixPath(p).suffix.lower() for p in paths)
                 if suffix in self.suffix_language}
        for language, patterns in self.content_language.items():
            if any(pattern.search(joined_code) for pattern in patterns):
                terms.add(language)
        for rule in self.rules:
            if (any(p.search(path) for p in rule.paths for path in paths)
                    or any(p.search(title) for p in rule.title)
                    or any(p.search(text) for p in rule.text)
                    or (joined_code and any(p.search(joined_code) for p in rule.diff))):
                terms.add(rule.tag)
        return terms


@lru_cache(maxsize=None)
def load_inferrer(data_dir: Path | None = None) -> TagInferrer:
    data_dir = data_dir or authored_dir().data
    path = data_dir / "inference.yaml"
    return TagInferrer(read_checked_yaml(path, "knowledge-inference"), load_vocabulary(data_dir), str(path))
