"""Correctness of every candidate of this task, under the Triton interpreter on the small cases (CPU, CI).

The check runs on a scratch copy so the task's own ledgers only ever hold deliberate runs."""

import shutil
from pathlib import Path

import pytest

from kernelpilot.harness import runner
from kernelpilot.harness.spec import load_task

TASK_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("candidate", load_task(TASK_ROOT).candidate_names())
def test_candidate_is_correct_under_the_interpreter(candidate, tmp_path):
    scratch = tmp_path / TASK_ROOT.name
    shutil.copytree(TASK_ROOT, scratch, ignore=shutil.ignore_patterns("ledgers", "benchmarks", "__pycache__"))
    outcome = runner.check(load_task(scratch), [candidate], interpret=True)
    assert [a["status"] for a in outcome.attempts] == ["correct"], outcome.attempts[0]["correctness"]
