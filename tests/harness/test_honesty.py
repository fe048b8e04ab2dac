"""Planted cheating candidates: the harness must reject every one, and none may reach the performance map."""

import pytest

from kernelpilot.harness import ledgers, perfmap, runner
from kernelpilot.harness.spec import load_task

from cheaters import CHEATERS, plant

@pytest.fixture
def cheating_task(norm_task_copy):
    for name, body in CHEATERS.items():
        plant(norm_task_copy, name, body)
    return load_task(norm_task_copy)


def test_every_cheater_is_rejected_and_recorded(cheating_task):
    outcome = runner.check(cheating_task, ["triton_rows", *CHEATERS], interpret=True)
    status = {a["candidate"]: a["status"] for a in outcome.attempts}
    assert status == {"triton_rows": "correct", **{name: "incorrect" for name in CHEATERS}}
    recorded = {a["candidate"] for a in ledgers.read_attempts(cheating_task.root)}
    assert recorded == set(status)
    for attempt in outcome.attempts:
        if attempt["candidate"] in CHEATERS:
            failures = [c["error"] for c in attempt["correctness"]["cases"].values() if not c["passed"]]
            assert failures and all(failures), attempt["candidate"]
    assert not ledgers.problems(cheating_task.root)


def test_cheaters_never_reach_the_performance_map(cheating_task):
    """Even with timings that look faster than everything, a candidate whose check failed is never dispatched."""
    outcome = runner.check(cheating_task, ["torch_eager", "triton_rows", *CHEATERS], interpret=True)
    for attempt in outcome.attempts:  # as if the same verdicts had come from a GPU check
        ledgers.append_attempt(cheating_task.root, {**attempt, "attempt_id": attempt["attempt_id"] + "-gpu",
                                                    "correctness": {**attempt["correctness"], "interpret": False}})
    rows = []
    for case in cheating_task.cases_for(interpret_only=True):
        for impl, device_us in [("torch_eager", 10.0), ("triton_rows", 5.0), *((c, 0.5) for c in CHEATERS)]:
            rows.append({"run_id": "run-1", "timestamp": ledgers.now_iso(), "task": cheating_task.name,
                         "op": case.op, "case": case.id, "impl": impl,
                         "impl_kind": "baseline" if impl == "torch_eager" else "candidate", "correct": True,
                         "device_us_p50": device_us, "host_us_p50": device_us, "gpu": "test-gpu", "sm_count": 1})
    ledgers.append_results(cheating_task.root, rows)
    perf_map = perfmap.build(cheating_task)
    measured = [c for op in perf_map["ops"].values() for c in op["cases"] if c["impls"]]
    assert {c["winner"] for c in measured} == {"triton_rows"}
    assert len(measured) == len(cheating_task.cases_for(interpret_only=True))
