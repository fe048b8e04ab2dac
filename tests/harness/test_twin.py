"""Twins: `task twin` makes a task's copy on another arch that shares K, R and W with it and keeps its own evidence."""

import inspect
import json
import shutil
from pathlib import Path

import pytest
import yaml

from clirun import kp, one_line_error
from kernelpilot.errors import KernelPilotError
from kernelpilot.harness import impls, ledgers, perfmap, runner
from kernelpilot.harness.spec import load_task


@pytest.fixture
def twin(norm_task_copy):
    result = kp("task", "twin", str(norm_task_copy), "--arch", "b200", "--json")
    assert result.returncode == 0, result.stderr
    return norm_task_copy.parent / json.loads(result.stdout)["task"]


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_twin_holds_only_its_own_files_and_shares_the_definition(twin, norm_task_copy):
    assert twin.name == "b200_diffusion_norm_infer__multi_shape"
    assert _files(twin) == ["benchmarks/.gitkeep", "candidates/.gitkeep", "interface.md", "ledgers/.gitkeep",
                            "prompt.md", "task.yaml", "tests/test_task.py"]
    assert yaml.safe_load((twin / "task.yaml").read_text()) == {
        "name": twin.name, "arch": "b200", "twin_of": norm_task_copy.name}
    assert (twin / "tests" / "test_task.py").read_text() == (norm_task_copy / "tests" / "test_task.py").read_text()
    task, sibling = load_task(twin), load_task(norm_task_copy)
    assert (task.name, task.arch, task.twin_of, task.sm) == (twin.name, "b200", norm_task_copy.name, "sm_100")
    assert task.cases == sibling.cases and task.ops == sibling.ops and task.baselines == sibling.baselines
    assert task.reference_path == sibling.reference_path
    for key in ("cost", "targets", "correctness", "title", "family"):
        assert task.data[key] == sibling.data[key], key


def test_the_twin_sees_the_siblings_portable_candidates_and_its_own_overrides(twin, norm_task_copy):
    # cuda_rows declares ARCHES = ("h200",): its extension is built for sm_90 only.
    sibling = load_task(norm_task_copy).candidate_names()
    portable = [name for name in sibling if name != "cuda_rows"]
    assert "cuda_rows" in sibling and "triton_rows" in portable
    assert load_task(twin).candidate_names() == portable
    own = twin / "candidates" / "triton_rows.py"
    own.write_text('"""A B200 variant."""\nPARENT = "triton_rows"\nMUTATION = "b200 tiles"\n')
    (twin / "candidates" / "tma_rows.py").write_text('"""Only the twin has it."""\n')
    task = load_task(twin)
    assert task.candidate_names() == ["tma_rows", *portable]
    assert task.candidate_path("triton_rows") == own
    assert task.candidate_path("triton_rows_pair") == norm_task_copy / "candidates" / "triton_rows_pair.py"
    assert impls.candidate_lineage(task, "triton_rows")["mutation"] == "b200 tiles"
    assert "tma_rows" not in load_task(norm_task_copy).candidate_names()


def test_an_inherited_candidate_checks_into_the_twins_ledgers(twin, norm_task_copy):
    task = load_task(twin)
    case = task.cases_for("triton_one_pass_rms_norm", interpret_only=True)[0].id
    outcome = runner.check(task, ["triton_rows_pair"], interpret=True, case_ids=[case])
    assert [a["status"] for a in outcome.attempts] == ["correct"]
    assert [a["task"] for a in ledgers.read_attempts(twin)] == [twin.name]
    assert outcome.attempts[0]["env"]["impl"]["file"] == f"../{norm_task_copy.name}/candidates/triton_rows_pair.py"
    assert ledgers.read_attempts(norm_task_copy) == []


def test_the_rendered_docs_name_the_arch_and_the_sibling(twin, norm_task_copy):
    prompt = (twin / "prompt.md").read_text()
    assert "Target GPU: **b200** (sm_100)" in prompt and f"the b200 twin of `{norm_task_copy.name}`" in prompt
    assert f"the reference in `../{norm_task_copy.name}/reference.py`" in prompt
    assert "Target: b200 (sm_100)" in (twin / "interface.md").read_text()
    (twin / "prompt.md").unlink()
    assert kp("task", "render", str(twin)).returncode == 0
    assert (twin / "prompt.md").read_text() == prompt


def test_the_benchmark_refuses_a_gpu_of_another_arch(twin, norm_task_copy):
    task = load_task(twin)
    refusal = runner.wrong_arch_refusal(task, (9, 0), "NVIDIA H200")
    assert refusal == (f"{twin.name} targets b200 (sm_100) but this GPU, NVIDIA H200, is sm_90: refusing to produce "
                       f"numbers that would be mistaken for b200 numbers")
    assert runner.wrong_arch_refusal(task, (10, 0), "NVIDIA B200") is None
    sibling = load_task(norm_task_copy)
    assert "targets h200 (sm_90)" in runner.wrong_arch_refusal(sibling, (10, 0), "NVIDIA B200")
    assert runner.wrong_arch_refusal(sibling, (9, 0), "NVIDIA H200") is None


def test_task_list_shows_the_twin_without_numbers(twin, norm_task_copy):
    rows = {row["task"]: row for row in json.loads(kp("task", "list", str(twin.parent), "--json").stdout)}
    assert rows[twin.name] == {"task": twin.name, "arch": "b200", "twin_of": norm_task_copy.name,
                               "status": "baseline only", "cases": 14, "best_geomean_device": None}
    table = kp("task", "list", str(twin.parent)).stdout
    assert "needs b200" in table


@pytest.mark.parametrize("arguments, cause", [
    (["--arch", "b300"], "unknown arch 'b300' (known: b200, h200)"),
    (["--arch", "h200"], "already targets h200"),
])
def test_task_twin_refuses_bad_input_in_one_line_and_leaves_nothing(norm_task_copy, arguments, cause):
    before = sorted(p.name for p in norm_task_copy.parent.iterdir())
    assert cause in one_line_error(kp("task", "twin", str(norm_task_copy), *arguments))
    assert sorted(p.name for p in norm_task_copy.parent.iterdir()) == before


def test_task_twin_refuses_an_existing_folder_and_a_twin(twin, norm_task_copy):
    assert "already exists" in one_line_error(kp("task", "twin", str(norm_task_copy), "--arch", "b200"))
    assert f"itself a twin of {norm_task_copy.name}" in one_line_error(kp("task", "twin", str(twin), "--arch", "h200"))
    assert "not a task folder" in one_line_error(kp("task", "twin", str(twin.parent / "nowhere"), "--arch", "b200"))


@pytest.mark.parametrize("edit, cause", [
    (lambda data: data.update(twin_of="h200_nowhere__multi_shape"), "is not a task folder"),
    (lambda data: data.update(ops=[]), "'ops' is not one of"),
    (lambda data: data.update(arch="h200"), "on another arch, but both are h200"),
])
def test_a_broken_twin_fails_to_load_in_one_line(twin, edit, cause):
    data = yaml.safe_load((twin / "task.yaml").read_text())
    edit(data)
    (twin / "task.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(KernelPilotError, match=cause):
        load_task(twin)
    assert cause in one_line_error(kp("task", "validate", str(twin)))


def test_a_twin_of_a_twin_fails_to_load(twin, norm_task_copy):
    second = norm_task_copy.parent / "h200_second__multi_shape"
    shutil.copytree(twin, second)
    (second / "task.yaml").write_text(yaml.safe_dump({"name": second.name, "arch": "h200", "twin_of": twin.name}))
    assert f"itself a twin of {norm_task_copy.name!r}" in one_line_error(kp("task", "validate", str(second)))


def test_the_loop_reads_the_twins_workload_from_its_sibling(twin, norm_task_copy):
    from kernelpilot.loop.plan import workload_cases

    assert workload_cases(twin) == workload_cases(norm_task_copy)


def test_the_twins_dispatcher_loads_inherited_candidates_from_the_sibling(twin, norm_task_copy):
    task = load_task(twin)
    rows = [{"run_id": "run-1", "timestamp": ledgers.now_iso(), "task": task.name, "op": case.op, "case": case.id,
             "impl": "torch_eager", "impl_kind": "baseline", "correct": True, "device_us_p50": 10.0,
             "host_us_p50": 10.0, "gpu": "test-gpu", "sm_count": 1} for case in task.cases]
    ledgers.append_results(twin, rows)
    perfmap.write(task, perfmap.build(task))
    dispatch = impls.load_module(twin / "benchmarks" / "dispatch.py", "kernelpilot_test_twin_dispatch")
    kernel = dispatch.DISPATCH._load("triton_one_pass_rms_norm", "triton_rows_pair")
    assert Path(inspect.getsourcefile(kernel)).resolve() == norm_task_copy / "candidates" / "triton_rows_pair.py"
    assert dispatch.DISPATCH.helper_folders == ("candidates", f"../{norm_task_copy.name}/candidates")
