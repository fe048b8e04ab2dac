"""The embedded search index: SQLite FTS5 with BM25 field weights, alias expansion and identifiers kept whole.

Text is tokenised here, before SQLite sees it, so that `tcgen05.mma`, `warp_issue_stalled` and `sm_90a` stay
single tokens (FTS5 keeps `_` and `.` inside tokens) while their parts are also indexed, so `stalled` or
`tcgen05` alone still find them. Queries go through the same function, which is what makes identifiers
searchable as written.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.layout import AuthoredDir, DataRoot
from kernelpilot.knowledge.vocab import Vocabulary, load_vocabulary

if TYPE_CHECKING:  # the corpus readers (bundles, source maps, importlib.metadata) load only when the index is written
    from kernelpilot.knowledge.corpus import Document

FORMAT_VERSION = "1"
COLUMNS = ("title", "tags", "body", "paths", "code")
WEIGHTS = (10.0, 6.0, 1.0, 2.0, 0.4)  # title and tags rank above body; code (diffs, sources) lowest
TOKEN = re.compile(r"\w+(?:\.\w+)*")
QUERY_WORD = re.compile(r"\w+(?:[.\-:]\w+)*")
STOPWORDS = frozenset("""a an the of to in on for and or is are was were be been my our your we i you it its
    this that these those with without when why how what which who does do did can could should would will
    from by at as into than too very get got use using used make makes there their them they me any some
    about after before so if but not no yes just only also all more most much many one two""".split())

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE origins(path TEXT PRIMARY KEY, stat TEXT NOT NULL, problems TEXT NOT NULL);
CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, origin TEXT NOT NULL, hash TEXT NOT NULL,
                  type TEXT NOT NULL, repo TEXT, date TEXT, title TEXT NOT NULL, url TEXT, location TEXT NOT NULL);
CREATE INDEX docs_origin ON docs(origin);
CREATE TABLE terms(doc INTEGER NOT NULL, field TEXT NOT NULL, term TEXT NOT NULL);
CREATE INDEX terms_by_term ON terms(term, field, doc);
CREATE INDEX terms_by_doc ON terms(doc);
CREATE TABLE expansions(name TEXT PRIMARY KEY, canonical TEXT, names TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5({", ".join(COLUMNS)}, tokenize="porter unicode61 tokenchars '_.'");
"""


def index_text(text: str) -> str:
    """Lower-case tokens, each compound identifier followed by its parts."""
    out = []
    for token in TOKEN.findall(text.lower()):
        out.append(token)
        if "_" in token or "." in token:
            out.extend(part for part in re.split(r"[._]", token) if part)
    return " ".join(out)


def phrase(name: str) -> str | None:
    tokens = TOKEN.findall(name.lower())
    return '"' + " ".join(tokens) + '"' if tokens else None


@dataclass
class UpdateReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    documents: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("documents", "added", "updated", "removed", "unchanged", "seconds")} | {
            "problems": self.problems}


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _vocabulary_fingerprint(vocabulary: Vocabulary) -> str:
    return json.dumps([sorted(vocabulary.facet_of_term.items()), sorted(vocabulary.groups.items())])


def _create(connection: sqlite3.Connection, vocabulary: Vocabulary) -> None:
    connection.executescript(SCHEMA)
    connection.execute("INSERT INTO fts(fts, rank) VALUES('rank', ?)", (f"bm25({', '.join(map(str, WEIGHTS))})",))
    connection.executemany("INSERT INTO meta VALUES(?, ?)", [
        ("format", FORMAT_VERSION), ("vocabulary", _vocabulary_fingerprint(vocabulary))])
    connection.executemany("INSERT INTO expansions VALUES(?, ?, ?)", [
        (name, vocabulary.canonical(name), json.dumps(group)) for name, group in vocabulary.groups.items()])


def _is_current(connection: sqlite3.Connection, vocabulary: Vocabulary) -> bool:
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError:
        return False
    return meta.get("format") == FORMAT_VERSION and meta.get("vocabulary") == _vocabulary_fingerprint(vocabulary)


def update_index(root: DataRoot, authored: AuthoredDir, full: bool = False) -> UpdateReport:
    """Bring the index up to date with the corpus; a full rebuild writes a new file and swaps it in."""
    started = time.perf_counter()
    vocabulary = load_vocabulary(authored.data)
    root.path.mkdir(parents=True, exist_ok=True)
    target = root.index_file
    if not full and target.exists():
        connection = _connect(target)
        if not _is_current(connection, vocabulary):
            connection.close()
            full = True
    if full or not target.exists():
        building = target.with_name(f".{target.name}.{os.getpid()}.building")
        _remove_database(building)
        connection = _connect(building)
        _create(connection, vocabulary)
        report = _apply(connection, root, authored, vocabulary)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        _remove_database(target)
        os.replace(building, target)
    else:
        report = _apply(connection, root, authored, vocabulary)
        connection.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _apply(connection: sqlite3.Connection, root: DataRoot, authored: AuthoredDir, vocabulary: Vocabulary) -> UpdateReport:
    from kernelpilot.knowledge.corpus import origins

    report = UpdateReport()
    known = {path: (stat, json.loads(problems)) for path, stat, problems in
             connection.execute("SELECT path, stat, problems FROM origins")}
    connection.execute("BEGIN IMMEDIATE")
    try:
        seen = set()
        for origin in origins(root, authored, vocabulary):
            seen.add(origin.key)
            previous = known.get(origin.key)
            if previous and previous[0] == origin.stat:
                report.problems.extend(previous[1])
                continue
            documents, problems = origin.load()
            report.problems.extend(problems)
            _replace_origin(connection, origin.key, documents, report)
            connection.execute("INSERT OR REPLACE INTO origins VALUES(?, ?, ?)",
                               (origin.key, origin.stat, json.dumps(problems)))
        for gone in set(known) - seen:
            _replace_origin(connection, gone, [], report)
            connection.execute("DELETE FROM origins WHERE path = ?", (gone,))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    report.documents = connection.execute("SELECT count(*) FROM docs").fetchone()[0]
    report.unchanged = report.documents - report.added - report.updated
    return report


def _replace_origin(connection: sqlite3.Connection, origin: str, documents: list[Document], report: UpdateReport) -> None:
    existing = {doc_id: (rowid, digest) for rowid, doc_id, digest in
                connection.execute("SELECT rowid, id, hash FROM docs WHERE origin = ?", (origin,))}
    for document in documents:
        digest = document.hash
        old = existing.pop(document.id, None)
        if old and old[1] == digest:
            continue
        if old:
            _delete(connection, old[0])
            report.updated += 1
        else:
            clash = connection.execute("SELECT rowid FROM docs WHERE id = ?", (document.id,)).fetchone()
            if clash:  # the same id moved to another origin (e.g. a wiki page renamed between folders)
                _delete(connection, clash[0])
            report.added += 1
        _insert(connection, origin, document, digest)
    for rowid, _ in existing.values():
        _delete(connection, rowid)
        report.removed += 1


def _delete(connection: sqlite3.Connection, rowid: int) -> None:
    connection.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
    connection.execute("DELETE FROM terms WHERE doc = ?", (rowid,))
    connection.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))


def _insert(connection: sqlite3.Connection, origin: str, d: Document, digest: str) -> None:
    cursor = connection.execute(
        "INSERT INTO docs(id, origin, hash, type, repo, date, title, url, location) VALUES(?,?,?,?,?,?,?,?,?)",
        (d.id, origin, digest, d.type, d.repo, d.date, d.title, d.url, d.location))
    rowid = cursor.lastrowid
    connection.executemany("INSERT INTO terms VALUES(?, ?, ?)",
                           [(rowid, name, term) for name, terms in d.terms.items() for term in terms])
    tags = " ".join(term for terms in d.terms.values() for term in terms)
    connection.execute("INSERT INTO fts(rowid, title, tags, body, paths, code) VALUES(?,?,?,?,?,?)",
                       (rowid, index_text(d.title), index_text(tags), index_text(d.body),
                        index_text(d.paths), index_text(d.code)))


@dataclass(frozen=True)
class Filters:
    repo: str | None = None
    architecture: str | None = None
    tag: str | None = None
    type: str | None = None
    language: str | None = None
    since: str | None = None


class Index:
    """A read connection to a built index."""

    def __init__(self, root: DataRoot):
        if not root.index_file.exists():
            raise KernelPilotError(f"no index at {root.index_file} (run `kernelpilot knowledge index`)")
        self.connection = sqlite3.connect(f"file:{root.index_file}?mode=ro", uri=True, timeout=30)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _group(self, name: str) -> tuple[str | None, list[str]]:
        row = self.connection.execute("SELECT canonical, names FROM expansions WHERE name = ?", (name,)).fetchone()
        return (row[0], json.loads(row[1])) if row else (None, [name])

    def canonical(self, name: str) -> str:
        return self._group(name.lower())[0] or name.lower()

    def match_expression(self, text: str) -> str:
        """An FTS5 expression: each word OR-ed with its aliases and synonyms, words OR-ed together."""
        phrases: dict[str, None] = {}
        words = [word for word in QUERY_WORD.findall(text.lower()) if word not in STOPWORDS]
        # Multi-word vocabulary terms ("bank conflicts" -> bank-conflicts) expand like single words.
        compounds = ["-".join(words[i:i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
        for word in words + [c for c in compounds if self._group(c)[0]]:
            for name in self._group(word)[1]:
                if (quoted := phrase(name)) is not None:
                    phrases[quoted] = None
        if not phrases:
            raise KernelPilotError(f"nothing to search for in {text!r}")
        return " OR ".join(phrases)

    def search(self, text: str, filters: Filters = Filters(), limit: int = 10) -> list[dict]:
        if limit < 1:
            raise KernelPilotError("--limit must be at least 1")
        where, params = ["fts MATCH ?"], [self.match_expression(text)]
        for column, value in (("docs.repo", filters.repo), ("docs.type", filters.type)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if filters.since:
            where.append("docs.date >= ?")
            params.append(filters.since)
        for field_name, value in (("architectures", filters.architecture), ("languages", filters.language),
                                  (None, filters.tag)):
            if value:
                field_clause = "AND t.field = ?" if field_name else ""
                where.append(f"EXISTS (SELECT 1 FROM terms t WHERE t.doc = docs.rowid AND t.term = ? {field_clause})")
                params.extend([self.canonical(value), field_name] if field_name else [self.canonical(value)])
        sql = (f"SELECT docs.rowid, docs.id, docs.type, docs.title, docs.repo, docs.date, docs.url, fts.rank "
               f"FROM fts JOIN docs ON docs.rowid = fts.rowid WHERE {' AND '.join(where)} "
               f"ORDER BY fts.rank LIMIT ?")
        rows = self.connection.execute(sql, (*params, limit)).fetchall()
        return [{"id": r[1], "type": r[2], "title": r[3], "repo": r[4], "date": r[5], "url": r[6],
                 "score": round(-r[7], 3), "tags": self.terms(r[0])} for r in rows]

    def terms(self, rowid: int) -> list[str]:
        return [t for (t,) in self.connection.execute("SELECT term FROM terms WHERE doc = ? ORDER BY term", (rowid,))]

    def lookup(self, doc_id: str) -> dict | None:
        row = self.connection.execute(
            "SELECT rowid, id, type, title, repo, date, url, location FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return {"id": row[1], "type": row[2], "title": row[3], "repo": row[4], "date": row[5], "url": row[6],
                "location": row[7], "tags": self.terms(row[0])}

    def stats(self) -> dict:
        by_type = dict(self.connection.execute("SELECT type, count(*) FROM docs GROUP BY type ORDER BY type"))
        by_repo = dict(self.connection.execute(
            "SELECT repo, count(*) FROM docs WHERE type = 'pr' GROUP BY repo ORDER BY count(*) DESC"))
        top_terms = self.connection.execute(
            "SELECT field, term, count(*) AS n FROM terms GROUP BY field, term ORDER BY n DESC LIMIT 25").fetchall()
        problems = sum(len(json.loads(p)) for (p,) in self.connection.execute("SELECT problems FROM origins"))
        return {"documents": sum(by_type.values()), "by_type": by_type, "pull_requests_by_repo": by_repo,
                "top_terms": [{"field": f, "term": t, "documents": n} for f, t, n in top_terms],
                "problems_at_last_update": problems}
