"""Print the loop hooks' wall time for the calls every unrelated session makes (no loop, another session's loop),
measured end to end: the plugin's shell entry, interpreter start, imports, stdin JSON, exit.

    PYTHONPATH=src python scripts/bench_loop_hook.py [--runs N]

The bar (issue 9) is 100 ms for hooks of other sessions or with no active loop.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kernelpilot import machine

REPO = Path(__file__).resolve().parents[1]
KP = REPO / "humanize" / "bin" / "kp"


def timed(args: list[str], cwd: Path, payload: dict, env: dict, runs: int) -> list[float]:
    data = json.dumps(payload)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        result = subprocess.run([str(KP), *args], cwd=cwd, input=data, capture_output=True, text=True, env=env)
        samples.append((time.perf_counter() - began) * 1000)
        if result.returncode != 0 or result.stdout or result.stderr:
            raise SystemExit(f"unexpected hook output: {result.returncode} {result.stdout!r} {result.stderr!r}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    env = {**os.environ, "KERNELPILOT_PYTHON": sys.executable, "PYTHONPATH": str(REPO / "src")}
    env.pop("KERNELPILOT_REVIEWER", None)
    env.pop("CLAUDE_PROJECT_DIR", None)
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "plain"
        plain.mkdir()
        idle = Path(scratch) / "idle"
        (idle / ".humanize" / "rlcr" / "20250101-000000-abcdef").mkdir(parents=True)
        busy = Path(scratch) / "busy"
        (busy / ".humanize" / "rlcr").mkdir(parents=True)
        (busy / ".humanize" / "rlcr" / "active.json").write_text(json.dumps({"loop_id": "x", "session_id": "owner"}))
        stop = {"session_id": "other", "transcript_path": "/dev/null", "hook_event_name": "Stop",
                "stop_hook_active": False, "last_assistant_message": "done"}
        cases = [
            ("stop, project without a loop folder (shell only)", ["hook", "stop"], plain),
            ("stop, loop folder but no active loop (Python)", ["hook", "stop"], idle),
            ("stop, another session's active loop (Python)", ["hook", "stop"], busy),
            ("pre-tool, active loop, harmless Bash call (Python)", ["hook", "pre-tool"], busy),
        ]
        bash = {"session_id": "other", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                "tool_input": {"command": "pytest -q"}}
        print(machine.header("scripts/bench_loop_hook.py"))
        print(f"{'case':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   ({runs} runs each, {sys.executable})")
        for label, args, cwd in cases:
            samples = sorted(timed(args, cwd, {**(bash if "pre-tool" in args else stop), "cwd": str(cwd)}, env, runs))
            p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
            print(f"{label:<52} {statistics.median(samples):8.1f} {p95:8.1f} {samples[-1]:8.1f}")


if __name__ == "__main__":
    main()
