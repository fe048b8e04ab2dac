"""The controlled vocabulary (tags.yaml) and its aliases (aliases.yaml): one term per concept, enforced."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.layout import authored_dir, read_checked_yaml

# Page fields that hold terms of exactly one facet; every other facet's terms go into `tags`.
FACET_FIELDS = ("architectures", "hardware_features", "techniques", "kernel_types", "languages")


@dataclass
class Vocabulary:
    facet_of_term: dict[str, str]
    alias_to_term: dict[str, str] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # any name -> every name of its group

    def canonical(self, name: str) -> str | None:
        """The vocabulary term for a term or alias (case-insensitive), or None when it is unknown."""
        key = name.strip().lower()
        if key in self.facet_of_term:
            return key
        return self.alias_to_term.get(key)

    def field_for(self, term: str) -> str:
        """The page field a canonical term belongs in."""
        facet = self.facet_of_term[term]
        return facet if facet in FACET_FIELDS else "tags"

    def classify(self, names, where: str) -> tuple[dict[str, list[str]], list[str]]:
        """Canonicalise names into page fields; unknown names come back as problems naming `where`."""
        fields: dict[str, set[str]] = {name: set() for name in (*FACET_FIELDS, "tags")}
        problems = []
        for name in names:
            term = self.canonical(name)
            if term is None:
                problems.append(f"{where}: {name!r} is not in the vocabulary (knowledge/data/tags.yaml)")
                continue
            fields[self.field_for(term)].add(term)
        return {key: sorted(values) for key, values in fields.items()}, problems


def build_vocabulary(tags_doc: dict, aliases_doc: dict, source: str) -> Vocabulary:
    facet_of_term: dict[str, str] = {}
    for facet, terms in tags_doc["facets"].items():
        for term in terms:
            if term in facet_of_term:
                raise KernelPilotError(f"{source}: term {term!r} is listed in both {facet_of_term[term]} and {facet}")
            facet_of_term[term] = facet
    vocabulary = Vocabulary(facet_of_term)
    for term, aliases in aliases_doc["terms"].items():
        if term not in facet_of_term:
            raise KernelPilotError(f"{source}: aliases given for {term!r}, which is not a vocabulary term")
        for alias in aliases:
            owner = vocabulary.alias_to_term.get(alias) or (alias if alias in facet_of_term else None)
            if owner is not None and owner != term:
                raise KernelPilotError(f"{source}: alias {alias!r} of {term!r} already names {owner!r}")
            vocabulary.alias_to_term[alias] = term
        group = (term, *aliases)
        for name in group:
            vocabulary.groups[name] = group
    for synonyms in aliases_doc.get("synonyms", []):
        group = tuple(word.lower() for word in synonyms)
        for word in group:
            vocabulary.groups.setdefault(word, group)
    return vocabulary


@lru_cache(maxsize=None)
def load_vocabulary(data_dir: Path | None = None) -> Vocabulary:
    data_dir = data_dir or authored_dir().data
    tags_doc = read_checked_yaml(data_dir / "tags.yaml", "knowledge-tags")
    aliases_doc = read_checked_yaml(data_dir / "aliases.yaml", "knowledge-aliases")
    return build_vocabulary(tags_doc, aliases_doc, str(data_dir / "aliases.yaml"))
