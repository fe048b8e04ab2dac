"""The CLI as a user runs it (a subprocess), and what a bad-input failure must look like."""

import os
import subprocess
import sys


def kp(*args, cwd=None, env=None):
    """The CLI in a fresh interpreter; `env` adds to (not replaces) this process's environment."""
    return subprocess.run([sys.executable, "-m", "kernelpilot", *args], capture_output=True, text=True, cwd=cwd,
                          env=None if env is None else {**os.environ, **env})


def one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr
