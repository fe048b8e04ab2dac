"""PR evidence from GitHub's REST API: pull metadata, changed files, the diff and file contents at the head.

The client honours the rate limit (x-ratelimit-remaining / -reset, Retry-After, 403 and 429 answers), keeps an
ETag cache so that unchanged listings cost a 304 and no quota, retries 5xx answers with exponential back-off,
and stops with a one-line message when it would have to wait longer than allowed. Bundles already complete
at the same head commit are skipped, so running `fetch` again resumes where it stopped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_json
from kernelpilot.knowledge.bundles import existing_head
from kernelpilot.knowledge.catalog import check_repo_name, load_catalog, matches_any
from kernelpilot.knowledge.ingest import MAX_SNAPSHOT_BYTES, IngestReport, assemble, store
from kernelpilot.knowledge.layout import DataRoot

API_ENV = "KERNELPILOT_GITHUB_API"
DEFAULT_API = "https://api.github.com"
JSON_TYPE, DIFF_TYPE = "application/vnd.github+json", "application/vnd.github.diff"


class NotFound(KernelPilotError):
    """GitHub answered 404."""


@dataclass
class Answer:
    status: int
    text: str
    next_url: str | None
    from_cache: bool = False

    def json(self):
        return json.loads(self.text)


@dataclass
class GitHubClient:
    api: str
    cache_dir: Path
    token: str | None = None
    max_wait: float = 900.0  # seconds we accept to sleep for a rate-limit reset
    retries: int = 4
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    requests_made: int = 0

    def __post_init__(self):
        import requests

        self.session = requests.Session()
        self.session.headers["User-Agent"] = "kernelpilot-knowledge"
        self.session.headers["X-GitHub-Api-Version"] = "2022-11-28"
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.api.rstrip("/") + path

    def _cache_file(self, url: str, accept: str) -> Path:
        return self.cache_dir / (hashlib.sha256(f"{accept} {url}".encode()).hexdigest() + ".json")

    def get(self, path: str, accept: str = JSON_TYPE) -> Answer:
        import requests

        url = self.url(path)
        cache_file = self._cache_file(url, accept)
        cached = json.loads(cache_file.read_text()) if cache_file.is_file() else None
        headers = {"Accept": accept}
        if cached:
            headers["If-None-Match"] = cached["etag"]
        failures = 0
        while True:
            try:
                self.requests_made += 1
                response = self.session.get(url, headers=headers, timeout=60)
            except requests.RequestException as exc:
                failures = self._retry_or_raise(failures, f"{url}: {type(exc).__name__}")
                continue
            status = response.status_code
            if status == 304 and cached:
                return Answer(200, cached["text"], cached["next_url"], from_cache=True)
            if status == 200:
                answer = Answer(200, response.text, response.links.get("next", {}).get("url"))
                if response.headers.get("ETag"):
                    atomic_write_json(cache_file, {"etag": response.headers["ETag"], "text": answer.text,
                                                   "next_url": answer.next_url})
                return answer
            if status in (403, 429) and self._is_rate_limited(response):
                self._wait_for_quota(response, url)
                continue
            if status >= 500:
                failures = self._retry_or_raise(failures, f"{url}: HTTP {status}")
                continue
            message = _error_message(response)
            if status == 404:
                raise NotFound(f"GitHub: 404 Not Found for {url}{message}")
            raise KernelPilotError(f"GitHub: HTTP {status} for {url}{message}")

    def _retry_or_raise(self, failures: int, what: str) -> int:
        if failures >= self.retries:
            raise KernelPilotError(f"GitHub: {what}, still failing after {failures + 1} attempts (run fetch again to resume)")
        self.sleep(self.backoff * (2 ** failures))
        return failures + 1

    @staticmethod
    def _is_rate_limited(response) -> bool:
        return (response.status_code == 429 or response.headers.get("x-ratelimit-remaining") == "0"
                or "retry-after" in response.headers or "rate limit" in response.text.lower())

    def _wait_for_quota(self, response, url: str) -> None:
        headers = response.headers
        if headers.get("retry-after", "").isdigit():
            wait = float(headers["retry-after"])
        elif headers.get("x-ratelimit-reset", "").isdigit():
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1.0
        else:
            wait = 60.0  # GitHub's advice for secondary limits without a header
        if wait > self.max_wait:
            reset = datetime.fromtimestamp(time.time() + wait, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise KernelPilotError(f"GitHub rate limit reached at {url}; quota returns at {reset} "
                                   "(set GITHUB_TOKEN for a higher limit; run fetch again to resume)")
        self.sleep(wait)

    def paginate(self, path: str) -> Iterator[list]:
        url: str | None = path
        while url:
            answer = self.get(url)
            yield answer.json()
            url = answer.next_url


def _error_message(response) -> str:
    try:
        message = response.json().get("message")
    except ValueError:
        message = None
    return f" ({message})" if message else ""


def client_from_environment(root: DataRoot, api: str | None = None, max_wait: float = 900.0) -> GitHubClient:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    return GitHubClient(api or os.environ.get(API_ENV) or DEFAULT_API, root.http_cache, token, max_wait=max_wait)


@dataclass
class FetchReport(IngestReport):
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return super().as_dict() | {"failed": self.failed}


def _snapshot_paths(rules, title: str, paths: list[str], globs: list[str] | None) -> list[str] | None:
    """The changed files to snapshot, or None when the PR is not kernel-relevant."""
    if globs:
        return [p for p in paths if matches_any(p, globs)] or None
    if not rules.is_kernel_pr(title, paths):
        return None
    return [p for p in paths if rules.is_kernel_path(p)]


def fetch_repo(root: DataRoot, client: GitHubClient, repo: str, since: str | None = None,
               globs: list[str] | None = None, limit: int | None = None) -> FetchReport:
    check_repo_name(repo)
    rules = load_catalog().rules_for(repo)
    report = FetchReport()
    for pull in _merged_pulls(client, repo, since, limit):
        number, head = pull["number"], pull["head"]["sha"]
        if existing_head(root, repo, number) == head:
            report.skipped.append(f"{repo}#{number}")
            continue
        try:
            evidence = _evidence(client, rules, repo, pull, globs)
        except NotFound as exc:
            report.failed.append(str(exc))
            continue
        if evidence is None:
            report.skipped.append(f"{repo}#{number}")
        else:
            store(root, evidence, report)
    return report


def _merged_pulls(client: GitHubClient, repo: str, since: str | None, limit: int | None) -> Iterator[dict]:
    """Merged pulls, most recently updated first, down to `since` (a date or timestamp)."""
    count = 0
    for page in client.paginate(f"/repos/{repo}/pulls?state=closed&sort=updated&direction=desc&per_page=100"):
        for pull in page:
            if since and pull["updated_at"] < since:
                return
            if not pull.get("merged_at") or (since and pull["merged_at"] < since):
                continue
            yield pull
            count += 1
            if limit and count >= limit:
                return


def _evidence(client: GitHubClient, rules, repo: str, pull: dict, globs: list[str] | None):
    number, head = pull["number"], pull["head"]["sha"]
    files = [entry for page in client.paginate(f"/repos/{repo}/pulls/{number}/files?per_page=100") for entry in page]
    paths = [entry["filename"] for entry in files]
    keep = _snapshot_paths(rules, pull["title"], paths, globs)
    if keep is None:
        return None
    diff = client.get(f"/repos/{repo}/pulls/{number}", accept=DIFF_TYPE).text
    removed = {entry["filename"] for entry in files if entry.get("status") == "removed"}
    snapshots, missing = {}, []
    for path in keep:
        if path in removed:
            missing.append((path, "deleted at the head commit"))
            continue
        try:
            content = client.get(f"/repos/{repo}/contents/{quote(path)}?ref={head}").json()
        except NotFound:
            missing.append((path, "not found at the head commit"))
            continue
        if content.get("encoding") != "base64" or content.get("size", 0) > MAX_SNAPSHOT_BYTES:
            missing.append((path, f"not returned inline (larger than {MAX_SNAPSHOT_BYTES} bytes?)"))
            continue
        snapshots[path] = base64.b64decode(content["content"])
    changed = [{"path": e["filename"], "added": e.get("additions", 0), "deleted": e.get("deletions", 0)} for e in files]
    return assemble(repo, number, pull["title"], pull.get("body") or "", pull["merged_at"], head, changed,
                    "github-api", client.url(f"/repos/{repo}/pulls/{number}"), diff, snapshots, missing)
