"""Builders for small Nsight Compute CSV snippets, in the exact shapes real exports have (quirks included)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
LAUNCH_COLUMNS = ["ID", "Process ID", "Process Name", "Host Name", "Kernel Name", "Context", "Stream", "Block Size",
                  "Grid Size", "Device", "CC"]
DETAILS_COLUMNS = LAUNCH_COLUMNS + ["Section Name", "Metric Name", "Metric Unit", "Metric Value", "Rule Name",
                                    "Rule Type", "Rule Description", "Estimated Speedup Type", "Estimated Speedup"]


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _launch(launch_id: str, kernel: str) -> list[str]:
    return [launch_id, "4242", "python3", "127.0.0.1", kernel, "1", "7", "(256, 1, 1)", "(1024, 1, 1)", "0", "9.0"]


def raw_csv_text(units: dict[str, str], launches: list[tuple[str, dict[str, str]]], preamble: str = "") -> str:
    """A raw-page export: header of metric names, a units row, one row per (kernel, {metric: cell})."""
    names = list(units)
    text = preamble + _line(LAUNCH_COLUMNS + names) + _line([""] * len(LAUNCH_COLUMNS) + [units[n] for n in names])
    for number, (kernel, cells) in enumerate(launches):
        text += _line(_launch(str(number), kernel) + [cells.get(name, "") for name in names])
    return text


def details_csv_text(launches: list[tuple[str, list[tuple]]]) -> str:
    """A details-page export. Metric rows are (section display name, label, unit, value) and end after the
    value with a trailing comma, as ncu writes them; rule rows are ("rule", section identifier, rule, type,
    message, speedup type, speedup) and fill every column."""
    text = _line(DETAILS_COLUMNS)
    for number, (kernel, rows) in enumerate(launches):
        head = _launch(str(number), kernel)
        for row in rows:
            if row[0] == "rule":
                _, section, rule, kind, message, scope, speedup = row
                text += _line(head + [section, "", "", "", rule, kind, message, scope, speedup])
            else:
                text += _line(head + list(row)).rstrip("\n") + ",\n"
    return text


@pytest.fixture
def write(tmp_path):
    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    return write_file


@pytest.fixture
def raw_csv():
    return raw_csv_text


@pytest.fixture
def details_csv():
    return details_csv_text


@pytest.fixture
def kernelpilot(repo_root):
    """Run the real CLI of this checkout in a subprocess: (exit code, stdout, stderr)."""
    def run(*args: str, env: dict | None = None, cwd: Path | None = None):
        import os
        full_env = {**os.environ, "PYTHONPATH": str(repo_root / "src"), **(env or {})}
        done = subprocess.run([sys.executable, "-m", "kernelpilot", *args], capture_output=True, text=True,
                              env=full_env, cwd=cwd)
        return done.returncode, done.stdout, done.stderr
    return run
