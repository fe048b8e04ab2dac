"""Every candidate of this task is correct under the Triton interpreter on the small cases, and its Triton kernels
compile for the task's arch as launched there (CPU, CI)."""

from pathlib import Path

from kernelpilot.harness.testing import compile_check_test, interpreter_check_test

TASK = Path(__file__).resolve().parents[1]
test_candidate_is_correct_under_the_interpreter = interpreter_check_test(TASK)
test_candidate_compiles_for_the_tasks_arch = compile_check_test(TASK)
