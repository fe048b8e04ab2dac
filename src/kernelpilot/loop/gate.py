"""The kernel evidence gate: mechanical checks that run before any reviewer, at no reviewer cost.

It checks the round summary's figures against the benchmarks (kernelpilot.loop.claims) and the task folder's
ledgers, correctness coverage, performance map and dispatcher (kernelpilot.harness.evidence). Acceptance criteria
that need hardware this machine lacks are deferred with the reason instead of blocking the loop forever.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kernelpilot.loop.claims import claim_problems
from kernelpilot.loop.plan import parse_criteria, parse_plan

# GPU models a criterion may name, and the words that name them (matched case-insensitively as whole words).
HARDWARE = {
    "B200": ("b200", "gb200", "sm_100", "sm100", "blackwell"),
    "H200": ("h200",),
    "H100": ("h100",),
    "A100": ("a100", "sm_80"),
    "MI300X": ("mi300x", "mi300"),
}
ARCH_FAMILIES = {"B200": ("B200",), "H200": ("H200",), "H100": ("H100",), "A100": ("A100",), "MI300X": ("MI300",)}


@dataclass
class GateReport:
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return ([f"FAIL {problem}" for problem in self.problems] + [f"ok   {check}" for check in self.passed]
                + [f"note {note}" for note in self.notes])


def run_gate(task_dir: Path, summary: str | None, summary_name: str = "round summary") -> GateReport:
    report = GateReport()
    if summary is not None:
        problems = claim_problems(summary, task_dir, summary_name)
        if problems:
            report.problems += problems
        else:
            report.passed.append(f"every figure the {summary_name} claims is backed by a benchmark row")
    if not (task_dir / "task.yaml").is_file():
        report.notes.append(f"{task_dir} has no task.yaml: not a harness task folder, so only the claims check ran")
        return report
    from kernelpilot.harness.evidence import evidence_problems

    problems = evidence_problems(task_dir)
    if problems:
        report.problems += problems
    else:
        report.passed.append("ledgers, correctness for every W case, performance map and dispatcher are consistent")
    return report


def visible_gpus() -> list[str]:
    """Names of the NVIDIA GPUs this machine shows (empty when none, or no driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        result = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True,
                                timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def needed_hardware(text: str) -> list[str]:
    lowered = text.lower()
    return [model for model, words in HARDWARE.items()
            if any(re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", lowered) for word in words)]


def hardware_deferrals(plan_text: str, gpus: list[str]) -> list[dict]:
    """The acceptance criteria that name only GPU models this machine lacks, each with the reason."""
    have = " | ".join(gpus) or "no NVIDIA GPU"
    deferred = []
    for criterion in parse_criteria(parse_plan(plan_text).sections.get("acceptance", "")):
        models = needed_hardware(criterion.text)
        present = [m for m in models if any(f in gpu.upper() for f in ARCH_FAMILIES[m] for gpu in gpus)]
        if models and not present:
            deferred.append({"criterion": f"AC-{criterion.number}",
                             "reason": f"needs {' or '.join(models)}; this machine has {have}"})
    return deferred
