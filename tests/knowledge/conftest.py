"""Shared set-up for the knowledge tests: a fresh data root, PR records, a real git clone, a real HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kernelpilot.knowledge.layout import authored_dir, data_root

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path):
    return data_root(tmp_path / "corpus")


@pytest.fixture(scope="session")
def authored():
    return authored_dir()


def pr_record(number: int, title: str, paths=("csrc/norm.cu",), body: str = "", repo: str = "acme/kernels",
              merged_at: str = "2026-03-01T10:00:00Z") -> dict:
    return {"repo": repo, "number": number, "sha": f"{number:040x}", "merged_at": merged_at, "title": title,
            "body": body, "files": [{"path": p, "added": 10, "deleted": 2} for p in paths]}


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run_cli(*args: str, root=None, env_extra=None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    env.pop("GITHUB_TOKEN", None)
    env.pop("GH_TOKEN", None)
    if root is not None:
        env["KERNELPILOT_KNOWLEDGE_ROOT"] = str(root.path)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "kernelpilot", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=120)


class FakeGitHub:
    """A real HTTP server on 127.0.0.1 answering GitHub-shaped JSON from a route table.

    routes: path (with query string) -> list of answers (status, headers, body); the last answer repeats.
    Every request is recorded as (path, headers) so tests can assert on ETags and tokens.
    """

    def __init__(self):
        self.routes: dict[str, list[tuple[int, dict, object]]] = {}
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                fake.requests.append((self.path, dict(self.headers)))
                answers = fake.routes.get(self.path) or [(404, {}, {"message": "Not Found"})]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                etag = headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value.replace("{base}", fake.base) if isinstance(value, str) else value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths_requested(self) -> list[str]:
        return [path for path, _ in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github():
    server = FakeGitHub()
    yield server
    server.close()


@pytest.fixture(scope="session")
def kp():
    """The helpers above, as a fixture (test modules cannot import this conftest under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(pr_record=pr_record, write_jsonl=write_jsonl, run_cli=run_cli)
