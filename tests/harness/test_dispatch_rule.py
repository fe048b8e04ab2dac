"""Which implementation wins a bucket: device time decides, unless the task lets a nearly-as-fast implementation
win that meets host targets the fastest misses (`targets.prefer_lower_host_cost_within`), and then never at the
cost of a device target the fastest meets."""

import pytest
import yaml
from task_folders import timed_rows

from kernelpilot.harness import ledgers, perfmap
from kernelpilot.harness.spec import load_task

# torch_eager stands in for SGLang: the target baseline, 12 µs on the device and 30 µs on the host (a 10 µs host
# target). triton_rows is the fastest on the device but heavy on the host; triton_rows_pdl is light.
HEAVY_HOST_US, LIGHT_HOST_US = 40.0, 6.0


@pytest.fixture
def rival_task(checked_task):
    """checked_task with torch_eager as its one target baseline and triton_rows_pdl judged correct as well (its
    check is triton_rows's: the map reads verdicts, and these tests are about what it does with timings)."""
    data = yaml.safe_load((checked_task.root / "task.yaml").read_text())
    for baseline in data["baselines"]:
        baseline["target"] = baseline["name"] == "torch_eager"
    (checked_task.root / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for attempt in [a for a in ledgers.read_attempts(checked_task.root) if a["candidate"] == "triton_rows"]:
        ledgers.append_attempt(checked_task.root, {**attempt, "candidate": "triton_rows_pdl",
                                                   "attempt_id": attempt["attempt_id"] + "-pdl"})
    return load_task(checked_task.root)


def allow_host_preference(task, within):
    """The task with the rule set to `within`, or left out (the default) for None."""
    data = yaml.safe_load((task.root / "task.yaml").read_text())
    data["targets"].pop("prefer_lower_host_cost_within", None)
    if within is not None:
        data["targets"]["prefer_lower_host_cost_within"] = within
    (task.root / "task.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return load_task(task.root)


def winners(task, light_device_us, target_us=None, light_host_us=LIGHT_HOST_US):
    small = [c.id for c in task.cases_for(interpret_only=True)]
    figures = {"torch_eager": (12.0, 30.0), "triton_rows": (10.0, HEAVY_HOST_US),
               "triton_rows_pdl": (light_device_us, light_host_us)}
    ledgers.append_results(task.root, timed_rows(task, ledgers.new_id(), small, figures, target_us=target_us))
    perf_map = perfmap.build(task)
    cases = [c for op in perf_map["ops"].values() for c in op["cases"] if c["impls"]]
    assert len(cases) == len(small)
    return perf_map, {c["winner"] for c in cases}


def test_by_default_device_time_alone_decides(rival_task):
    perf_map, won = winners(allow_host_preference(rival_task, None), 10.3)
    assert won == {"triton_rows"}
    assert not any(op["host_preferred"] for op in perf_map["ops"].values())
    assert not any(c["meets_host_target"] for op in perf_map["ops"].values() for c in op["cases"] if c["impls"])


@pytest.mark.parametrize("light_device_us,target_us,light_host_us,winner", [
    (10.3, None, LIGHT_HOST_US, "triton_rows_pdl"),  # 3% slower on the device, meets the host target
    (10.8, None, LIGHT_HOST_US, "triton_rows"),  # 8% slower: outside the 5% allowed
    (10.3, 10.1, LIGHT_HOST_US, "triton_rows"),  # it would miss the device target triton_rows meets
    (10.3, 10.5, LIGHT_HOST_US, "triton_rows_pdl"),  # both meet it
    (10.3, None, 20.0, "triton_rows"),  # lighter, but still over the host target: no device time is given up
])
def test_a_nearly_as_fast_implementation_wins_where_it_meets_host_targets_the_fastest_misses(
        rival_task, light_device_us, target_us, light_host_us, winner):
    task = allow_host_preference(rival_task, 0.05)
    perf_map, won = winners(task, light_device_us, target_us, light_host_us)
    assert won == {winner}
    displaced = {name for op in perf_map["ops"].values() for name in op["host_preferred"].values()}
    assert displaced == ({"triton_rows"} if winner == "triton_rows_pdl" else set())
    perfmap.write(task, perf_map)
    decisions = (task.root / "benchmarks" / "tuning-decisions.md").read_text()
    expected = f"lighter on the host than triton_rows: {LIGHT_HOST_US:.1f} µs vs {HEAVY_HOST_US:.1f} µs"
    assert (expected in decisions) == (winner == "triton_rows_pdl")
