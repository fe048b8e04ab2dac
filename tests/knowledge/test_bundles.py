import os

from kernelpilot.knowledge.bundles import Evidence, bundle_path, leftover_paths, write_bundle
from kernelpilot.knowledge.index import Index, update_index
from kernelpilot.knowledge.ingest import assemble
from kernelpilot.knowledge.validate import validate_corpus


def evidence(number, title="perf: fused rmsnorm kernel", diff="diff --git a/a.cu b/a.cu\n+x\n"):
    return assemble("acme/kernels", number, title, "", "2026-01-01T00:00:00Z", f"{number:040x}",
                    [{"path": "a.cu", "added": 1, "deleted": 0}], "git", "/clone", diff, {"a.cu": b"x\n"})


def test_rewriting_a_bundle_replaces_it_whole(root):
    first = write_bundle(root, evidence(1))
    second = write_bundle(root, evidence(1, title="perf: fused rmsnorm kernel v2"))
    assert first == second and "v2" in (second / "page.json").read_text()
    assert leftover_paths(root) == []
    assert sorted(os.listdir(second)) == ["diff.patch", "origin.json", "page.json", "snapshots"]


def test_broken_bundle_is_reported_and_never_indexed(root, authored):
    write_bundle(root, evidence(1))
    write_bundle(root, evidence(2))
    (bundle_path(root, "acme/kernels", 2) / "diff.patch").write_text("truncated")
    interrupted = bundle_path(root, "acme/kernels", 3).with_name(".staging-3-abc")
    interrupted.mkdir()
    (interrupted / "page.json").write_text("{")
    report = update_index(root, authored)
    assert any("diff.patch: content does not match origin.json" in p for p in report.problems)
    with Index(root) as index:
        assert index.lookup("acme/kernels#1") is not None
        assert index.lookup("acme/kernels#2") is None
        assert index.lookup("acme/kernels#3") is None
    result = validate_corpus(root, authored)
    assert any("acme__kernels/2/diff.patch" in p for p in result.problems)
    assert any(".staging-3-abc: left by an interrupted write" in p for p in result.problems)


def test_bundle_without_origin_is_incomplete(root, authored):
    folder = write_bundle(root, evidence(4))
    (folder / "origin.json").unlink()
    report = update_index(root, authored)
    assert any("origin.json: missing (incomplete bundle)" in p for p in report.problems)


def test_validate_reports_stale_index_and_unresolved_sources(root, authored):
    write_bundle(root, evidence(5))
    result = validate_corpus(root, authored)
    assert any("no index yet" in w for w in result.warnings)
    update_index(root, authored)
    write_bundle(root, evidence(6))
    assert any("not indexed yet" in p for p in validate_corpus(root, authored).problems)
    # Wiki sources in repositories never ingested are warnings, or problems under --strict.
    assert any("is not ingested yet" in w for w in result.warnings)
    assert any("is not in the corpus" in p for p in validate_corpus(root, authored, strict=True).problems)


def test_evidence_records_missing_files():
    made = assemble("acme/kernels", 9, "t", "", "2026-01-01", "a" * 40, [], "git", "/c", None, None,
                    [("x.cu", "deleted at the head commit")])
    assert isinstance(made, Evidence) and made.missing == (("x.cu", "deleted at the head commit"),)
