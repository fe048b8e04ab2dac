"""Every candidate of this task is correct under the Triton interpreter on the small cases (CPU, CI)."""

from pathlib import Path

from kernelpilot.harness.testing import interpreter_check_test

test_candidate_is_correct_under_the_interpreter = interpreter_check_test(Path(__file__).resolve().parents[1])
