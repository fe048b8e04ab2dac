import json
import subprocess

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.bundles import bundle_path, completeness_problems
from kernelpilot.knowledge.index import Index, update_index
from kernelpilot.knowledge.ingest import ingest_git, ingest_jsonl
from kernelpilot.knowledge.validate import validate_corpus


def test_jsonl_records_become_complete_tagged_bundles(root, authored, tmp_path, kp):
    file = kp.write_jsonl(tmp_path / "a.prs.jsonl", [
        kp.pr_record(1, "perf: TMA loads for the Hopper RMSNorm", ["csrc/norm_sm90.cu"]),
        kp.pr_record(2, "docs: fix typo", ["docs/index.md"])])
    report = ingest_jsonl(root, file)
    assert len(report.written) == 2
    folder = bundle_path(root, "acme/kernels", 1)
    assert completeness_problems(folder) == []
    page = json.loads((folder / "page.json").read_text())
    assert page["url"] == "https://github.com/acme/kernels/pull/1"
    assert {"sm90"} <= set(page["architectures"]) and "tma" in page["hardware_features"]
    assert "normalization" in page["kernel_types"] and "performance" in page["tags"]
    origin = json.loads((folder / "origin.json").read_text())
    assert origin["source"] == "jsonl" and origin["location"].endswith("a.prs.jsonl:1")
    assert ingest_jsonl(root, file).as_dict() == {"written": 0, "unchanged": 2, "skipped": 0}


def test_malformed_jsonl_writes_nothing(root, tmp_path, kp):
    good = kp.pr_record(1, "fine")
    file = tmp_path / "bad.prs.jsonl"
    file.write_text(json.dumps(good) + "\n" + json.dumps({"repo": "acme/kernels", "number": "two"}) + "\n")
    with pytest.raises(KernelPilotError, match=r"bad\.prs\.jsonl:2: .*nothing was ingested"):
        ingest_jsonl(root, file)
    assert not root.bundles.exists()
    file.write_text("{not json\n")
    with pytest.raises(KernelPilotError, match=r":1: not valid JSON"):
        ingest_jsonl(root, file)


def git(clone, *args):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(clone), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def clone(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q", "-b", "main")
    (clone / "csrc").mkdir()
    (clone / "csrc" / "norm.cu").write_text("__global__ void norm() {}\n")
    (clone / "csrc" / "old.cu").write_text("// to be removed\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "initial import")
    (clone / "csrc" / "norm.cu").write_text("__global__ void norm() { /* tcgen05.mma */ }\n")
    git(clone, "rm", "-q", "csrc/old.cu")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "perf: Blackwell RMSNorm kernel (#12)", "-m", "Uses tcgen05.")
    (clone / "README.md").write_text("hello\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "docs: readme (#13)")
    return clone


def test_git_history_gives_bundles_with_diff_and_snapshots(root, clone):
    report = ingest_git(root, clone, "acme/kernels")
    assert report.written == ["acme/kernels#12"] and report.skipped == ["acme/kernels#13"]
    folder = bundle_path(root, "acme/kernels", 12)
    assert completeness_problems(folder) == []
    assert (folder / "snapshots" / "csrc" / "norm.cu").read_text() == "__global__ void norm() { /* tcgen05.mma */ }\n"
    assert "-// to be removed" in (folder / "diff.patch").read_text()
    origin = json.loads((folder / "origin.json").read_text())
    head = git(clone, "rev-parse", "HEAD~1").strip()
    assert origin["source"] == "git" and origin["commit"] == head
    assert {"path": "csrc/old.cu", "reason": "deleted at the head commit"} in origin["missing"]
    page = json.loads((folder / "page.json").read_text())
    assert page["title"] == "perf: Blackwell RMSNorm kernel" and "sm100" in page["architectures"]


def test_git_ingest_rejects_a_folder_that_is_not_a_clone(root, tmp_path):
    with pytest.raises(KernelPilotError, match="not a git clone"):
        ingest_git(root, tmp_path, "acme/kernels")
    with pytest.raises(KernelPilotError, match="OWNER/NAME"):
        ingest_git(root, tmp_path, "no-slash")


def test_real_quack_corpus_ingests_validates_and_resolves_wiki_sources(root, authored, shared_dir):
    report = ingest_jsonl(root, shared_dir / "knowledge" / "Dao-AILab__quack.prs.jsonl")
    assert len(report.written) >= 90
    update_index(root, authored)
    result = validate_corpus(root, authored)
    assert result.problems == []
    assert result.checked["wiki_pages"] >= 30
    with Index(root) as index:
        hits = index.search("2CTA tile_m", limit=5)
    assert "Dao-AILab/quack#117" in [hit["id"] for hit in hits]
