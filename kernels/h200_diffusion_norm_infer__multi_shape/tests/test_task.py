"""Correctness of every candidate of this task, under the Triton interpreter on the small cases (CPU, CI)."""

from pathlib import Path

import pytest

from kernelpilot.harness import runner
from kernelpilot.harness.spec import load_task

TASK = load_task(Path(__file__).resolve().parent.parent)


@pytest.mark.parametrize("candidate", TASK.candidate_names())
def test_candidate_is_correct_under_the_interpreter(candidate):
    outcome = runner.check(TASK, [candidate], interpret=True)
    assert [a["status"] for a in outcome.attempts] == ["correct"], outcome.attempts[0]["correctness"]
