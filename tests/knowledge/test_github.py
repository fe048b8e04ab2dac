import base64
import json
import time

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.knowledge.bundles import bundle_path, completeness_problems
from kernelpilot.knowledge.github import GitHubClient, fetch_repo

REPO = "acme/kernels"
LIST = f"/repos/{REPO}/pulls?state=closed&sort=updated&direction=desc&per_page=100"
KERNEL_SOURCE = b"__global__ void rmsnorm() { /* cp.async.bulk.tensor */ }\n"


def pull(number, title, merged=True, updated="2026-05-01T00:00:00Z"):
    return {"number": number, "title": title, "body": f"body of {number}", "updated_at": updated,
            "merged_at": "2026-04-30T00:00:00Z" if merged else None, "head": {"sha": f"{number:040x}"}}


def serve_repo(github, files_status=200):
    """Two list pages (Link header), a merged kernel PR, an unmerged PR, a docs-only PR."""
    github.routes[LIST] = [(200, {"ETag": '"list-1"', "Link": f'<{{base}}{LIST}&page=2>; rel="next"'},
                            [pull(7, "perf: TMA RMSNorm for Hopper"), pull(8, "wip", merged=False)])]
    github.routes[f"{LIST}&page=2"] = [(200, {"ETag": '"list-2"'}, [pull(9, "docs: typo")])]
    github.routes[f"/repos/{REPO}/pulls/7/files?per_page=100"] = [(files_status, {}, [
        {"filename": "csrc/norm.cu", "status": "modified", "additions": 5, "deletions": 1},
        {"filename": "csrc/gone.cu", "status": "removed", "additions": 0, "deletions": 9}]
        if files_status == 200 else {"message": "Not Found"})]
    github.routes[f"/repos/{REPO}/pulls/9/files?per_page=100"] = [(200, {}, [
        {"filename": "docs/index.md", "status": "modified", "additions": 1, "deletions": 1}])]
    github.routes[f"/repos/{REPO}/pulls/7"] = [(200, {}, "diff --git a/csrc/norm.cu b/csrc/norm.cu\n+cp.async.bulk.tensor\n")]
    github.routes[f"/repos/{REPO}/contents/csrc/norm.cu?ref={7:040x}"] = [(200, {}, {
        "encoding": "base64", "size": len(KERNEL_SOURCE), "content": base64.b64encode(KERNEL_SOURCE).decode()})]


def client(github, root, **kwargs):
    sleeps = []
    made = GitHubClient(github.base, root.http_cache, token=kwargs.pop("token", None), sleep=sleeps.append,
                        backoff=0.01, **kwargs)
    return made, sleeps


def test_fetch_writes_kernel_prs_with_diff_snapshot_and_origin(github, root):
    serve_repo(github)
    api, _ = client(github, root, token="secret-token")
    report = fetch_repo(root, api, REPO)
    assert report.written == [f"{REPO}#7"] and report.skipped == [f"{REPO}#9"] and report.failed == []
    folder = bundle_path(root, REPO, 7)
    assert completeness_problems(folder) == []
    assert (folder / "snapshots" / "csrc" / "norm.cu").read_bytes() == KERNEL_SOURCE
    origin = json.loads((folder / "origin.json").read_text())
    assert origin["source"] == "github-api" and origin["commit"] == f"{7:040x}"
    assert {"path": "csrc/gone.cu", "reason": "deleted at the head commit"} in origin["missing"]
    page = json.loads((folder / "page.json").read_text())
    assert "tma" in page["hardware_features"] and "sm90" in page["architectures"]
    assert all(headers.get("Authorization") == "Bearer secret-token" for _, headers in github.requests)
    assert any(h.get("Accept") == "application/vnd.github.diff" for p, h in github.requests if p.endswith("/pulls/7"))


def test_second_fetch_resumes_with_etags_and_skips_complete_bundles(github, root):
    serve_repo(github)
    fetch_repo(root, client(github, root)[0], REPO)
    github.requests.clear()
    report = fetch_repo(root, client(github, root)[0], REPO)
    assert report.written == [] and f"{REPO}#7" in report.skipped
    list_requests = [h for p, h in github.requests if p.startswith(LIST)]
    assert [h.get("If-None-Match") for h in list_requests] == ['"list-1"', '"list-2"']
    assert not any("/pulls/7/" in p for p in github.paths_requested())


def test_server_errors_are_retried_with_backoff(github, root):
    serve_repo(github)
    github.routes[LIST].insert(0, (502, {}, {"message": "Bad Gateway"}))
    github.routes[LIST].insert(0, (500, {}, {"message": "oops"}))
    api, sleeps = client(github, root)
    assert fetch_repo(root, api, REPO).written == [f"{REPO}#7"]
    assert sleeps == [0.01, 0.02]


def test_persistent_server_errors_stop_with_one_line(github, root):
    github.routes[LIST] = [(503, {}, {"message": "unavailable"})]
    api, sleeps = client(github, root, retries=2)
    with pytest.raises(KernelPilotError, match="HTTP 503, still failing after 3 attempts"):
        fetch_repo(root, api, REPO)
    assert len(sleeps) == 2 and not root.bundles.exists()


def test_rate_limit_waits_for_the_reset_then_continues(github, root):
    serve_repo(github)
    reset = str(int(time.time()) + 5)
    github.routes[LIST].insert(0, (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
                                   {"message": "API rate limit exceeded"}))
    github.routes[f"/repos/{REPO}/pulls/7"].insert(0, (429, {"Retry-After": "3"}, {"message": "slow down"}))
    api, sleeps = client(github, root)
    assert fetch_repo(root, api, REPO).written == [f"{REPO}#7"]
    assert 3 < sleeps[0] <= 7 and sleeps[1] == 3.0


def test_rate_limit_beyond_max_wait_stops_and_keeps_the_corpus_consistent(github, root):
    serve_repo(github)
    fetch_repo(root, client(github, root)[0], REPO)
    github.routes[LIST] = [(429, {"Retry-After": "7200"}, {"message": "secondary rate limit"})]
    api, sleeps = client(github, root, max_wait=60)
    with pytest.raises(KernelPilotError, match="rate limit reached .* run fetch again to resume"):
        fetch_repo(root, api, REPO)
    assert sleeps == []
    assert completeness_problems(bundle_path(root, REPO, 7)) == []


def test_unknown_repository_is_a_clear_404(github, root):
    with pytest.raises(KernelPilotError, match=r"404 Not Found for .*/repos/acme/kernels/pulls\?.* \(Not Found\)"):
        fetch_repo(root, client(github, root)[0], REPO)


def test_a_404_for_one_pull_is_reported_and_the_rest_continue(github, root):
    serve_repo(github, files_status=404)
    report = fetch_repo(root, client(github, root)[0], REPO)
    assert report.written == [] and len(report.failed) == 1 and "pulls/7/files" in report.failed[0]
    assert not bundle_path(root, REPO, 7).exists()
