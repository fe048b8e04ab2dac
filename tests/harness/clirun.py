"""The CLI as a user runs it (a subprocess), and what a bad-input failure must look like."""

import subprocess
import sys


def kp(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kernelpilot", *args], capture_output=True, text=True, cwd=cwd)


def one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr
