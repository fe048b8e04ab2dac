"""Running the worker in its own process group, with a per-case timeout, and reading back its events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

STARTUP_ALLOWANCE_S = 120.0  # importing torch and initialising CUDA before the first case starts
RESTART_EXIT_CODE = 3  # the worker failed a case in a way that may have spoiled its CUDA context: start afresh


@dataclass
class WorkerResult:
    impl_info: dict = field(default_factory=dict)
    cases: dict[str, dict] = field(default_factory=dict)  # case id -> the worker's result for it
    calibration: dict | None = None
    error: str | None = None  # why the implementation could not run at all


def worker_environment(interpret: bool) -> dict[str, str]:
    env = dict(os.environ)
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    else:
        env.pop("TRITON_INTERPRET", None)
    return env


def _read_events(path: Path, offset: int) -> tuple[list[dict], int]:
    with open(path, encoding="utf-8") as handle:
        handle.seek(offset)
        text = handle.read()
    complete, _, _ = text.rpartition("\n")
    if not complete:
        return [], offset
    events = [json.loads(line) for line in complete.split("\n") if line.strip()]
    return events, offset + len(complete.encode("utf-8")) + 1


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_worker(request: dict, case_ids: list[str], case_timeout_s: float, interpret: bool,
               on_case: Callable[[str, dict], None] | None = None) -> WorkerResult:
    """Run the stage over the cases; a case that hangs or crashes the worker is recorded and the rest go on."""
    result = WorkerResult()
    remaining = list(case_ids)
    while True:
        stopped_at = _run_once(request, remaining, case_timeout_s, interpret, result, on_case)
        if stopped_at is None or result.error is not None:
            return result
        remaining = remaining[remaining.index(stopped_at) + 1:] if stopped_at in remaining else []
        if not remaining:
            return result


def _run_once(request: dict, case_ids: list[str], case_timeout_s: float, interpret: bool, result: WorkerResult,
              on_case: Callable[[str, dict], None] | None) -> str | None:
    """One worker process. Returns the case after which a fresh worker must resume, or None when it finished."""
    with tempfile.TemporaryDirectory(prefix="kernelpilot-worker-") as scratch:
        events_path = Path(scratch) / "events.jsonl"
        events_path.touch()
        payload = json.dumps({**request, "cases": case_ids, "events": str(events_path)})
        process = subprocess.Popen([sys.executable, "-m", "kernelpilot.harness.worker"], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   env=worker_environment(interpret), start_new_session=True)
        process.stdin.write(payload)
        process.stdin.close()
        offset, running, deadline = 0, None, time.monotonic() + STARTUP_ALLOWANCE_S + case_timeout_s
        while True:
            exited = process.poll() is not None
            events, offset = _read_events(events_path, offset)
            for event in events:
                running, deadline = _apply(event, result, on_case, running, deadline, case_timeout_s)
            if exited:
                break
            if time.monotonic() > deadline:
                _kill_group(process)
                return _record_failure(result, running, f"timed out after {case_timeout_s:.0f} s", on_case,
                                       status="timeout")
            time.sleep(0.05)
        stderr = process.stderr.read() if process.stderr else ""
        if process.returncode == RESTART_EXIT_CODE and result.cases:
            return list(result.cases)[-1]
        if running is not None:  # died inside a case: a crash of the candidate, not of the harness
            last_line = (stderr.strip().splitlines() or [f"exit code {process.returncode}"])[-1]
            return _record_failure(result, running, f"worker died ({last_line[:300]})", on_case, status="error")
        if process.returncode not in (0, 1, 2) and result.error is None and not result.cases:
            result.error = (stderr.strip().splitlines() or [f"worker exit code {process.returncode}"])[-1][:500]
        return None


def _apply(event: dict, result: WorkerResult, on_case, running: str | None, deadline: float,
           case_timeout_s: float) -> tuple[str | None, float]:
    kind = event.get("type")
    if kind == "start":
        return event["case"], time.monotonic() + case_timeout_s
    if kind == "impl":
        result.impl_info = event.get("info", {})
    elif kind == "case":
        case_id = event.pop("case")
        event.pop("type")
        result.cases[case_id] = event
        if on_case:
            on_case(case_id, event)
        return None, deadline
    elif kind == "calibrate":
        result.calibration = event
        return None, deadline
    elif kind == "error":
        if running is not None:
            _record_failure(result, running, event["message"], on_case, status="error")
            return None, deadline
        result.error = event["message"]
    return running, deadline


def _record_failure(result: WorkerResult, case_id: str | None, message: str, on_case, status: str) -> str | None:
    if case_id is None:
        result.error = message
        return None
    outcome = {"passed": False, "correct": False, "error": message, "status": status}
    result.cases[case_id] = outcome
    if on_case:
        on_case(case_id, outcome)
    return case_id
