import importlib.util

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.grep import grep
from kernelpilot.knowledge.index import Filters, Index, index_text, update_index
from kernelpilot.knowledge.ingest import ingest_jsonl
from kernelpilot.knowledge.installed import index_installed


@pytest.fixture
def corpus(root, authored, tmp_path, kp):
    kp.write_jsonl(tmp_path / "c.prs.jsonl", [
        kp.pr_record(1, "Refactor launcher", ["csrc/launch.cu"],
                     body="The kernel issues tcgen05.mma and stalls on warp_issue_stalled_long_scoreboard."),
        kp.pr_record(2, "Scheduler cleanup", ["csrc/sched.cu"], body="Nothing about the hardware here."),
        kp.pr_record(3, "perf: faster topk for B200", ["csrc/topk.cu"], merged_at="2025-01-05T00:00:00Z"),
        kp.pr_record(4, "Mention topk in passing", ["csrc/x.cu"], body="topk topk appears only in the body here"),
        kp.pr_record(5, "Other repo topk", ["csrc/y.cu"], repo="other/repo")])
    ingest_jsonl(root, tmp_path / "c.prs.jsonl")
    update_index(root, authored)
    return root


def ids(root, text, **filters):
    with Index(root) as index:
        return [hit["id"] for hit in index.search(text, Filters(**filters), limit=20)]


def test_identifiers_are_searchable_as_written_and_by_parts(corpus):
    assert ids(corpus, "tcgen05.mma", type="pr") == ["acme/kernels#1"]
    assert "acme/kernels#1" in ids(corpus, "warp_issue_stalled_long_scoreboard")
    assert "acme/kernels#1" in ids(corpus, "stalled", type="pr")
    assert index_text("tcgen05.mma end.") == "tcgen05.mma tcgen05 mma end"


def test_aliases_expand_queries(corpus):
    assert "acme/kernels#3" in ids(corpus, "blackwell", type="pr")
    assert ids(corpus, "topk", architecture="Blackwell") == ["acme/kernels#3"]


def test_title_ranks_above_body(corpus):
    ranked = ids(corpus, "topk", repo="acme/kernels")
    assert ranked.index("acme/kernels#3") < ranked.index("acme/kernels#4")


def test_filters(corpus):
    assert ids(corpus, "topk", repo="other/repo") == ["other/repo#5"]
    assert ids(corpus, "topk", since="2026-01-01", repo="acme/kernels") == ["acme/kernels#4"]
    assert ids(corpus, "topk", architecture="sm100") == ["acme/kernels#3"]
    assert all(i.startswith("wiki:") for i in ids(corpus, "register spills", type="wiki"))
    assert ids(corpus, "register spills", tag="spill")[0].startswith("wiki:")


def test_query_without_terms_is_an_error(corpus):
    with Index(corpus) as index, pytest.raises(KernelPilotError, match="nothing to search for"):
        index.search("the of and")


def test_incremental_update_touches_only_what_changed(corpus, authored):
    page = corpus.user_wiki / "local-note.md"
    page.parent.mkdir(parents=True)
    page.write_text("---\ntitle: Local note on zebrafish kernels\nkind: technique\nsummary: s\n"
                    "sources: [ref:ptx-isa]\n---\nbody\n")
    report = update_index(corpus, authored)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)
    assert ids(corpus, "zebrafish") == ["wiki:local-note"]
    page.write_text(page.read_text().replace("zebrafish", "axolotl"))
    report = update_index(corpus, authored)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert ids(corpus, "axolotl") == ["wiki:local-note"]
    page.unlink()
    assert update_index(corpus, authored).removed == 1
    assert update_index(corpus, authored).as_dict()["added"] == 0


def test_malformed_page_is_skipped_with_a_message_and_the_index_stays_usable(corpus, authored):
    corpus.user_wiki.mkdir(parents=True)
    (corpus.user_wiki / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    (corpus.user_wiki / "bad-tags.md").write_text("---\ntitle: t\nkind: technique\nsummary: s\n"
                                                  "tags: [made-up]\nsources: [ref:ptx-isa]\n---\n")
    report = update_index(corpus, authored)
    assert any("broken.md" in p and "invalid front matter" in p for p in report.problems)
    assert any("bad-tags.md" in p and "'made-up' is not in the vocabulary" in p for p in report.problems)
    assert "acme/kernels#1" in ids(corpus, "tcgen05.mma", type="pr")
    assert update_index(corpus, authored).problems == report.problems


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
def test_installed_triton_sources_are_mapped_queried_and_grepped(root, authored):
    mapped = index_installed(root, ["triton"])
    assert mapped[0]["files"] > 20
    update_index(root, authored)
    hits = ids(root, "autotuner", type="source")
    assert any(hit.startswith("src:triton/") for hit in hits)
    result = grep(root, authored, r"^def jit\(", only=["sources"], context=1)
    assert any(m["id"] == "src:triton/runtime/jit.py" for m in result["matches"])
    with pytest.raises(KernelPilotError, match="not in the catalog"):
        index_installed(root, ["numpy"])


def test_a_query_does_not_load_the_corpus_readers(corpus, repo_root):
    """`knowledge query` is a fast path: bundles, source maps and importlib.metadata load only to write the index."""
    import os
    import subprocess
    import sys

    # main() returns its status rather than exiting: the script exits with it, so a failing query fails the test
    script = ("import sys\nfrom kernelpilot.cli import main\nrc = main(['knowledge', 'query', 'topk', '--json', "
              f"'--root', {str(corpus.path)!r}])\nprint(' '.join(sorted(sys.modules)))\nraise SystemExit(rc)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo_root / "src")})
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "kernelpilot.knowledge.index" in loaded
    assert not loaded & {"kernelpilot.knowledge.corpus", "kernelpilot.knowledge.bundles",
                         "kernelpilot.knowledge.installed", "importlib.metadata", "yaml", "jsonschema"}, loaded
