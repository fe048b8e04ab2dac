"""`kernelpilot knowledge ...`: fetch, ingest, index and search the kernel evidence corpus (logic in kernelpilot.knowledge)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from kernelpilot.cli.common import add_verb, add_verbs, console, print_json

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")
TYPES = ("pr", "wiki", "reference", "source")


def _date(text: str) -> str:
    if not DATE.match(text):
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")
    return text


def _places(args):
    from kernelpilot.knowledge.layout import authored_dir, data_root

    return data_root(args.root), authored_dir()


def _update_index(args) -> dict:
    from kernelpilot.knowledge.index import update_index

    return update_index(*_places(args), full=getattr(args, "full", False)).as_dict()


def _report(args, result: dict, summary: str) -> None:
    if args.json:
        print_json(result)
    else:
        console().print(summary)


def _ingest_then_index(args, ingest) -> int:
    """Run an ingestion, then index whatever complete bundles exist, even when the ingestion stopped early."""
    try:
        result = ingest()
    finally:
        index = _update_index(args)
    failed = result.get("failed", [])
    _report(args, {"ingested": result, "index": index},
            f"written {result['written']}, unchanged {result['unchanged']}, skipped {result['skipped']}; "
            f"index: {index['documents']} documents ({index['added']} added, {index['updated']} updated)"
            + "".join(f"\nfailed: {line}" for line in failed))
    return 1 if failed else 0


def cmd_index(args) -> int:
    result = _update_index(args)
    _report(args, result, f"{result['documents']} documents: {result['added']} added, {result['updated']} updated, "
                          f"{result['removed']} removed in {result['seconds']} s"
                          + "".join(f"\nskipped: {p}" for p in result["problems"]))
    return 0


def cmd_ingest_jsonl(args) -> int:
    from kernelpilot.knowledge.ingest import IngestReport, ingest_jsonl

    def ingest():
        total = IngestReport().as_dict()
        for file in args.files:
            for key, value in ingest_jsonl(_places(args)[0], Path(file)).as_dict().items():
                total[key] += value
        return total

    return _ingest_then_index(args, ingest)


def cmd_ingest_git(args) -> int:
    from kernelpilot.knowledge.ingest import ingest_git

    return _ingest_then_index(args, lambda: ingest_git(_places(args)[0], Path(args.path), args.repo, args.since).as_dict())


def cmd_fetch(args) -> int:
    from kernelpilot.knowledge.github import client_from_environment, fetch_repo

    root = _places(args)[0]
    client = client_from_environment(root, args.api_url, args.max_wait)
    return _ingest_then_index(
        args, lambda: fetch_repo(root, client, args.repo, args.since, args.paths, args.limit).as_dict())


def cmd_index_installed(args) -> int:
    from kernelpilot.knowledge.installed import index_installed

    mapped = index_installed(_places(args)[0], args.packages or None)
    index = _update_index(args)
    lines = [f"{m['package']} {m['version'] or '?'}: {m['files']} files at {m['location']}" for m in mapped]
    _report(args, {"packages": mapped, "index": index},
            "\n".join(lines or ["no catalog package is installed here"]) + f"\nindex: {index['documents']} documents")
    return 0


def cmd_query(args) -> int:
    from kernelpilot.knowledge.index import Filters, Index

    filters = Filters(args.repo, args.architecture, args.tag, args.type, args.language, args.since)
    with Index(_places(args)[0]) as index:
        hits = index.search(" ".join(args.terms), filters, args.limit)
    if args.json:
        print_json(hits)
        return 0
    if not hits:
        console().print("no matches")
    for hit in hits:
        when = f" {hit['date']}" if hit["date"] else ""
        console().print(f"[bold]{hit['id']}[/bold]{when}  {hit['title']}")
        if hit["tags"]:
            console().print(f"    [dim]{' '.join(hit['tags'])}[/dim]")
    return 0


def cmd_get(args) -> int:
    from kernelpilot.knowledge.index import Index
    from kernelpilot.knowledge.show import detail

    with Index(_places(args)[0]) as index:
        found = detail(index, args.id, args.diff, args.files, args.follow_sources)
    if args.json:
        print_json(found)
        return 0
    out = console()
    out.print(f"[bold]{found['id']}[/bold] ({found['type']})  {found['title']}")
    for key in ("url", "date", "location"):
        if found.get(key):
            out.print(f"{key}: {found[key]}")
    if found["tags"]:
        out.print("tags: " + " ".join(found["tags"]))
    for entry in found.get("files", []):
        out.print(f"  {entry['path']} +{entry['added']} -{entry['deleted']}"
                  + (f"  (snapshot: {entry['snapshot']})" if entry["snapshot"] else ""))
    for source in found.get("sources", []):
        out.print(f"  source {source['id']}: " + (f"{source['title']} {source['url'] or ''}" if source["resolved"]
                                                  else "[red]unresolved[/red]"))
    text = found.get("body") or found.get("text")
    if text:
        out.print(text, markup=False)
    if "diff" in found:
        out.print(found["diff"] if found["diff"] is not None else "(this bundle holds no diff)", markup=False)
    return 0


def cmd_grep(args) -> int:
    from kernelpilot.knowledge.grep import grep

    result = grep(*_places(args), args.regex, args.only, args.context, args.max, args.ignore_case)
    if args.json:
        print_json(result)
        return 0 if result["matches"] else 1
    # Plain lines, never wrapped: grep output is read by tools as often as by people.
    for match in result["matches"]:
        for offset, line in enumerate(match["before"], start=match["line"] - len(match["before"])):
            print(f"{match['id']}:{offset}- {line}")
        print(f"{match['id']}:{match['line']}: {match['text']}")
        for offset, line in enumerate(match["after"], start=match["line"] + 1):
            print(f"{match['id']}:{offset}- {line}")
    if result["truncated"]:
        print(f"(stopped after {args.max} matches; narrow the pattern or raise --max)")
    return 0 if result["matches"] else 1


def cmd_validate(args) -> int:
    from kernelpilot.knowledge.validate import validate_corpus

    result = validate_corpus(*_places(args), strict=args.strict)
    if args.json:
        print_json(result.as_dict())
    else:
        for line in result.warnings:
            print(f"warning: {line}")
        for line in result.problems:
            print(f"problem: {line}")
        checked = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in result.checked.items())
        print(f"{'ok' if not result.problems else f'{len(result.problems)} problems'}: checked {checked} "
              f"in {result.seconds} s")
    return 1 if result.problems else 0


def cmd_stats(args) -> int:
    from kernelpilot.knowledge.index import Index

    with Index(_places(args)[0]) as index:
        stats = index.stats()
    if args.json:
        print_json(stats)
        return 0
    out = console()
    out.print(f"{stats['documents']} documents: " + ", ".join(f"{n} {t}" for t, n in stats["by_type"].items()))
    for repo, n in stats["pull_requests_by_repo"].items():
        out.print(f"  {repo}: {n} PRs")
    out.print("most used terms: " + ", ".join(f"{t['term']} ({t['documents']})" for t in stats["top_terms"]))
    if stats["problems_at_last_update"]:
        out.print(f"{stats['problems_at_last_update']} files were skipped at the last update (see `validate`)")
    return 0


def register(area_parser: argparse.ArgumentParser) -> None:
    verbs = add_verbs(area_parser)

    def verb(name, handler, summary):
        parser = add_verb(verbs, name, handler, summary, json_output=True)
        parser.add_argument("--root", help="corpus data folder (default: $KERNELPILOT_KNOWLEDGE_ROOT, else the "
                                           "per-user data folder)")
        return parser

    p = verb("index", cmd_index, "bring the search index up to date with the corpus (incremental)")
    p.add_argument("--full", action="store_true", help="rebuild from scratch")

    p = verb("query", cmd_query, "ranked search over PRs, wiki pages, references and installed sources")
    p.add_argument("terms", nargs="+", help="words, identifiers (tcgen05.mma, warp_issue_stalled) or aliases")
    p.add_argument("--repo", help="only PRs of OWNER/NAME")
    p.add_argument("--architecture", help="e.g. sm90, hopper, blackwell")
    p.add_argument("--tag", help="any vocabulary term or alias")
    p.add_argument("--type", choices=TYPES)
    p.add_argument("--language", help="e.g. cuda, triton, cute-dsl")
    p.add_argument("--since", type=_date, help="merged on or after YYYY-MM-DD")
    p.add_argument("--limit", type=int, default=10)

    p = verb("get", cmd_get, "show one document: a PR (owner/name#N), a wiki page, a reference or a source file")
    p.add_argument("id")
    p.add_argument("--follow-sources", action="store_true", help="resolve a wiki page's sources")
    p.add_argument("--diff", action="store_true", help="include the PR's diff")
    p.add_argument("--files", action="store_true", help="list changed files and their snapshots")

    p = verb("grep", cmd_grep, "regular-expression search over pages, diffs, snapshots and installed sources")
    p.add_argument("regex")
    p.add_argument("--only", nargs="+", choices=("pages", "diffs", "snapshots", "sources"))
    p.add_argument("--context", type=int, default=0, metavar="N", help="lines of context around each match")
    p.add_argument("--ignore-case", "-i", action="store_true")
    p.add_argument("--max", type=int, default=200, help="stop after this many matches")

    p = verb("validate", cmd_validate, "check schemas, vocabulary, links, sources, bundles and index freshness")
    p.add_argument("--strict", action="store_true", help="a wiki source in a repository not ingested is a problem")

    verb("stats", cmd_stats, "what the index holds")

    p = verb("fetch", cmd_fetch, "fetch kernel-relevant merged PRs from GitHub's REST API into bundles")
    p.add_argument("--repo", required=True, help="OWNER/NAME")
    p.add_argument("--since", type=_date, help="only PRs updated on or after YYYY-MM-DD")
    p.add_argument("--paths", nargs="+", metavar="GLOB", help="keep PRs touching these paths (default: the catalog's)")
    p.add_argument("--limit", type=int, help="at most this many merged PRs")
    p.add_argument("--api-url", help="API base URL (default: $KERNELPILOT_GITHUB_API or https://api.github.com)")
    p.add_argument("--max-wait", type=float, default=900.0, help="longest rate-limit wait in seconds before stopping")

    p = verb("ingest-git", cmd_ingest_git, "bundles from a local clone's squash-merged (#N) commits")
    p.add_argument("path")
    p.add_argument("--repo", required=True, help="OWNER/NAME the clone is of")
    p.add_argument("--since", type=_date)

    p = verb("ingest-jsonl", cmd_ingest_jsonl, "bundles from PR metadata records (*.prs.jsonl)")
    p.add_argument("files", nargs="+")

    p = verb("index-installed", cmd_index_installed, "map the kernel sources of installed packages (triton, ...)")
    p.add_argument("packages", nargs="*", help="catalog package names (default: every installed one)")
