"""A narrowed run (`task run --case ...`) adds to the performance map instead of erasing what earlier runs timed."""

from task_folders import timed_rows

from kernelpilot.harness import ledgers, perfmap, report, runner
from kernelpilot.harness.evidence import evidence_problems


def rows(task, run_id, case_ids, candidate_us, gpu="NVIDIA H200"):
    return timed_rows(task, run_id, case_ids, {"torch_eager": (10.0, 10.0), "triton_rows": (candidate_us,) * 2},
                      gpu=gpu)


def measured(perf_map):
    return {c["case"]: (c["run_id"], c["impls"]["triton_rows"]["device_us"])
            for op in perf_map["ops"].values() for c in op["cases"] if c["impls"]}


def test_cases_left_out_keep_their_latest_timing_from_the_same_gpu_model(checked_task):
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]
    ledgers.append_results(checked_task.root, rows(checked_task, "run-1", small, 5.0))
    ledgers.append_results(checked_task.root, rows(checked_task, "run-h100", small[1:2], 1.0, gpu="NVIDIA H100"))
    ledgers.append_results(checked_task.root, rows(checked_task, "run-2", small[:1], 4.0))

    merged = perfmap.build(checked_task)
    assert merged["run_id"] == "run-2"
    assert measured(merged) == {small[0]: ("run-2", 4.0), **{case: ("run-1", 5.0) for case in small[1:]}}
    assert merged["summary"]["cases"] == len(small)
    assert measured(perfmap.build(checked_task, "run-2")) == {small[0]: ("run-2", 4.0)}  # one run, when named

    used = perfmap.map_rows(ledgers.read_results(checked_task.root), merged)
    assert {r["run_id"] for r in used} == {"run-1", "run-2"}
    block = report.section(checked_task, merged, used)
    assert f"`run-1` (commit commit-of-run-1): {len(small) - 1} case(s)" in block


def test_a_later_run_on_another_chip_of_the_same_sm_stays_out_of_the_headline(checked_task):
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]
    ledgers.append_results(checked_task.root, rows(checked_task, "run-h100-first", small, 9.0, gpu="NVIDIA H100"))
    assert perfmap.build(checked_task)["run_id"] == "run-h100-first"  # with no run on the task's chip, the newest
    ledgers.append_results(checked_task.root, rows(checked_task, "run-h200", small, 5.0))
    ledgers.append_results(checked_task.root, rows(checked_task, "run-h100", small[:1], 1.0, gpu="NVIDIA H100"))

    perf_map = perfmap.build(checked_task)
    assert perf_map["run_id"] == "run-h200" and perf_map["env"]["gpu"] == "NVIDIA H200"
    assert measured(perf_map) == {case: ("run-h200", 5.0) for case in small}
    all_rows = ledgers.read_results(checked_task.root)
    block = report.section(checked_task, perf_map, perfmap.map_rows(all_rows, perf_map), all_rows)
    assert "`run-h100` on NVIDIA H100: 1 case(s)" in block
    assert f"`run-h100-first` on NVIDIA H100: {len(small)} case(s)" in block


def test_the_headline_is_the_tasks_own_gpu_model_by_name():
    def runs(*gpus):
        return [{"run_id": f"run-{i}", "gpu": gpu} for i, gpu in enumerate(gpus)]

    assert ledgers.headline_run_id(runs("NVIDIA H200", "NVIDIA H100 80GB HBM3"), "h200") == "run-0"
    assert ledgers.headline_run_id(runs("NVIDIA H200", "NVIDIA GH200 480GB"), "h200") == "run-0"
    assert ledgers.headline_run_id(runs("NVIDIA H100 80GB HBM3", "NVIDIA GH200 480GB"), "h200") == "run-1"
    assert ledgers.headline_run_id([], "h200") is None


def test_each_case_keeps_its_newest_same_size_copy_among_the_maps_runs(checked_task):
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]
    for run, cases in (("run-1", small), ("run-2", small[:1])):
        ledgers.append_results(checked_task.root, rows(checked_task, run, cases, 5.0) + [
            {**row, "impl": "copy_same_size", "impl_kind": "ceiling"} for row in rows(checked_task, run, cases, 1.0)
            if row["impl"] == "triton_rows"])
    used = perfmap.map_rows(ledgers.read_results(checked_task.root), perfmap.build(checked_task))
    copies = {r["case"]: r["run_id"] for r in used if r["impl"] == "copy_same_size"}
    assert copies == {small[0]: "run-2", **{case: "run-1" for case in small[1:]}}


def test_a_narrowed_check_leaves_the_other_cases_verdicts_standing(checked_task):
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]
    narrowed = runner.check(checked_task, ["triton_rows"], interpret=True, case_ids=small[:1]).attempts[0]
    ledgers.append_attempt(checked_task.root, {**narrowed, "attempt_id": narrowed["attempt_id"] + "-gpu",
                                       "correctness": {**narrowed["correctness"], "interpret": False}})
    ledgers.append_results(checked_task.root, rows(checked_task, "run-1", small, 5.0))
    perf_map = perfmap.build(checked_task)
    assert all(c["impls"]["triton_rows"]["correct"] for op in perf_map["ops"].values() for c in op["cases"]
               if c["impls"])


def test_a_narrowed_check_leaves_the_evidence_gates_verdicts_on_the_other_cases_standing(checked_task):
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]

    def gpu_check(case_ids, suffix):
        attempt = runner.check(checked_task, ["triton_rows"], interpret=True, case_ids=case_ids).attempts[0]
        ledgers.append_attempt(checked_task.root, {**attempt, "attempt_id": attempt["attempt_id"] + suffix,
                                                   "correctness": {**attempt["correctness"], "interpret": False}})

    def promoted_problems():
        return [p for p in evidence_problems(checked_task.root) if "promoted" in p]

    gpu_check(None, "-gpu")  # every small case (W's large ones stay unchecked: the gate names those)
    ledgers.append_results(checked_task.root, rows(checked_task, "run-1", small, 5.0))
    runner.build_map(checked_task)
    before = promoted_problems()
    assert not any(case in problem for problem in before for case in small)
    gpu_check(small[:1], "-gpu-narrowed")
    assert promoted_problems() == before


def test_implementations_a_run_left_out_keep_their_latest_timing(checked_task):
    """`task run --impl NEW` times one candidate: the baselines it is judged against come from the run before."""
    small = [c.id for c in checked_task.cases_for(interpret_only=True)]
    first = [{**r, "target_us": 6.0} for r in rows(checked_task, "run-1", small, 5.0)]
    ledgers.append_results(checked_task.root, first)
    second = [r for r in rows(checked_task, "run-2", small, 4.0) if r["impl"] == "triton_rows"]
    ledgers.append_results(checked_task.root, second)

    merged = perfmap.build(checked_task)
    case = next(c for op in merged["ops"].values() for c in op["cases"] if c["case"] == small[0])
    assert case["impls"]["triton_rows"] == {**case["impls"]["triton_rows"], "device_us": 4.0, "run_id": "run-2"}
    assert case["impls"]["torch_eager"]["run_id"] == "run-1"
    assert (case["run_id"], case["target_us"]) == ("run-1", 6.0)  # from the run that timed the baselines

    used = perfmap.map_rows(ledgers.read_results(checked_task.root), merged)
    assert {(r["impl"], r["run_id"]) for r in used} == {("torch_eager", "run-1"), ("triton_rows", "run-2")}
    assert f"`run-1` (commit commit-of-run-1): {len(small)} case(s)" in report.section(checked_task, merged, used)
