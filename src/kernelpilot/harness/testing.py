"""The pytest test every task folder carries, built here so each task's tests/test_task.py is one line long."""

from __future__ import annotations

import shutil
from pathlib import Path


def interpreter_check_test(task_root: Path):
    """A parametrized test: each candidate (but those that declare REQUIRES_CUDA) is correct under the Triton
    interpreter on the task's small cases. It checks a scratch copy, so the task's own ledgers only ever hold
    deliberate runs."""
    import pytest

    from kernelpilot.harness import impls, runner
    from kernelpilot.harness.spec import load_task

    task = load_task(task_root)
    names = [c for c in task.candidate_names() if not impls.requires_cuda(task, c)]

    @pytest.mark.parametrize("candidate", names or [pytest.param(None, marks=pytest.mark.skip("no candidate yet"))])
    def test_candidate_is_correct_under_the_interpreter(candidate, tmp_path):
        for folder in task.folders:  # a twin's sibling too, beside it as twin_of expects
            shutil.copytree(folder, tmp_path / folder.name,
                            ignore=shutil.ignore_patterns("ledgers", "benchmarks", "__pycache__"))
        outcome = runner.check(load_task(tmp_path / task.root.name), [candidate], interpret=True)
        assert [a["status"] for a in outcome.attempts] == ["correct"], outcome.attempts[0]["correctness"]

    return test_candidate_is_correct_under_the_interpreter


def compile_check_test(task_root: Path):
    """A parametrized test: each candidate's Triton kernels compile for the task's arch (sm_90, sm_100) on the CPU,
    as launched on the small cases, so GPU-only paths the interpreter skips are compiled in CI too."""
    import pytest

    from kernelpilot.harness import impls, runner
    from kernelpilot.harness.spec import load_task

    task = load_task(task_root)
    names = [c for c in task.candidate_names() if not impls.requires_cuda(task, c)]

    @pytest.mark.parametrize("candidate", names or [pytest.param(None, marks=pytest.mark.skip("no candidate yet"))])
    def test_candidate_compiles_for_the_tasks_arch(candidate):
        result = runner.compile_candidates(task, [candidate]).results[candidate]
        assert runner.compiled_everywhere(result), result.error or result.cases

    return test_candidate_compiles_for_the_tasks_arch
