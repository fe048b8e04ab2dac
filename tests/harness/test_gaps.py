"""`kernelpilot task gaps`: what a task's ledgers lack on its own GPU model, and the runs that fill it."""

import json

from clirun import kp, one_line_error
from task_folders import timed_rows

from kernelpilot.harness import gaps, ledgers, report
from kernelpilot.harness.spec import load_task


def gpu_check(task, impl, verdicts, error=None):
    """A GPU check attempt as `task check` records it: case -> passed, or a whole-impl build error."""
    status = "error" if error else ("correct" if all(verdicts.values()) else "incorrect")
    correctness = {"passed": status == "correct", "interpret": False, "seeds": [1],
                   "cases": {case: {"passed": ok} for case, ok in verdicts.items()}}
    if error:
        correctness["error"] = error
    ledgers.append_attempt(task.root, {
        "attempt_id": ledgers.new_id(), "timestamp": ledgers.now_iso(), "task": task.name, "candidate": impl,
        "stage": "check", "status": status, "parent": None, "mutation": None, "motivation": None, "evidence": [],
        "source": None, "correctness": correctness, "timing": None, "env": {}, "commit": None})


def small_cases(task, op=None):
    return [c.id for c in task.cases_for(op, interpret_only=True)]


def planted_ledgers(task):
    """torch_eager checked and timed on the H200 on every small case; triton_rows timed there on one case and on an
    H100 on all; triton_rows_pair failing one case; sglang_0_5_12 unbuildable; triton_rows_pdl run on one op only."""
    small, rms_only = small_cases(task), small_cases(task, "triton_one_pass_rms_norm")
    for impl in ("torch_eager", "triton_rows"):
        gpu_check(task, impl, {case: True for case in small})
    gpu_check(task, "triton_rows_pair", {case: case != small[0] for case in small})
    gpu_check(task, "sglang_0_5_12", {}, error="sglang 0.5.12: cannot import sglang.x: No module named 'cutlass'")
    gpu_check(task, "triton_rows_pdl", {case: True for case in rms_only})
    ledgers.append_results(task.root, timed_rows(task, "run-h100", small, {"triton_rows": (1.0, 1.0)},
                                                 gpu="NVIDIA H100 80GB HBM3"))
    ledgers.append_results(task.root, timed_rows(task, "run-h200", small, {"torch_eager": (3.0, 3.0)})
                           + timed_rows(task, "run-h200", small[:1], {"triton_rows": (2.0, 2.0)}))
    return small, rms_only


def test_each_implementation_lacks_what_its_gpu_checks_and_own_model_timings_leave_out(norm_task_copy):
    task = load_task(norm_task_copy)
    small, rms_only = planted_ledgers(task)
    every = [c.id for c in task.cases]
    found = {gap.impl: gap for gap in gaps.survey(task).impls}

    assert found["torch_eager"].missing == tuple(c for c in every if c not in small)
    assert found["torch_eager"].timed == len(small)
    assert found["triton_rows"].missing == tuple(c for c in every if c != small[0])  # H100 timings do not count
    assert found["triton_rows_pair"].failing == (small[0],)
    assert small[0] not in found["triton_rows_pair"].missing
    assert found["sglang_0_5_12"].unbuilt.endswith("No module named 'cutlass'")
    assert found["sglang_0_5_12"].missing == () and found["sglang_0_5_12"].timed == 0
    pdl = found["triton_rows_pdl"]
    assert pdl.covered == tuple(c.id for c in task.cases_for("triton_one_pass_rms_norm"))
    assert set(rms_only) <= set(pdl.missing)  # checked, never timed
    assert found["cuda_rows"].missing == tuple(every)  # never ran: taken to implement every op


def test_the_results_section_names_what_its_table_cannot_show(norm_task_copy):
    task = load_task(norm_task_copy)
    planted_ledgers(task)
    note = report.untimed_note(task, ledgers.read_results(task.root))[0]
    assert note.startswith("Not yet checked and timed on an H200")
    assert f"`triton_rows` on {len(task.cases) - 1} of its {len(task.cases)} case(s)" in note
    assert "sglang_0_5_12" not in note  # it does not build: nothing a run would add


def test_the_commands_group_implementations_lacking_the_same_cases(norm_task_copy):
    task = load_task(norm_task_copy)
    planted_ledgers(task)
    commands = gaps.fill_commands("TASK", task, gaps.survey(task))
    never_run = next(c for c in commands if "--impl cuda_rows" in c)
    assert "--case" not in never_run  # all of W
    assert "--impl sglang_0_5_23" in never_run and "--impl torch_compile" in never_run
    assert "sglang_0_5_12" not in " ".join(commands)  # it needs a fix, not a run
    assert all(c.startswith("kernelpilot task run TASK ") for c in commands)

    fresh = load_task(norm_task_copy)
    for path in (fresh.root / "ledgers").iterdir():
        path.unlink()
    (fresh.root / "benchmarks" / "results.csv").unlink()
    assert gaps.fill_commands("TASK", fresh, gaps.survey(fresh)) == ["kernelpilot task run TASK"]


def test_cases_without_a_same_size_copy_get_a_run_of_the_most_timed_candidate(norm_task_copy):
    task = load_task(norm_task_copy)
    small = small_cases(task)
    copies = [{**row, "impl": "copy_same_size", "impl_kind": "ceiling"}
              for row in timed_rows(task, "run-h200", small[1:], {"triton_rows": (1.0, 1.0)})]
    ledgers.append_results(task.root, copies + timed_rows(task, "run-h100", small[:1], {"triton_rows": (1.0, 1.0)},
                                                          gpu="NVIDIA H100 80GB HBM3"))
    uncopied = gaps.survey(task).uncopied
    assert small[0] in uncopied and not set(small[1:]) & set(uncopied)  # an H100's copy does not count

    every = tuple(c.id for c in task.cases)
    complete = [gaps.ImplGaps(name, every, (), ()) for name in ("torch_eager", "triton_rows")]
    busier = gaps.ImplGaps("triton_rows_pdl", every, every[1:], ())
    assert gaps.fill_commands("T", task, gaps.Survey(complete, uncopied)) == [
        "kernelpilot task run T --impl triton_rows " + " ".join(f"--case {c}" for c in uncopied)]
    assert gaps.fill_commands("T", task, gaps.Survey(complete + [busier], (every[0], every[1]))) == [
        "kernelpilot task run T --impl triton_rows_pdl " + " ".join(f"--case {c}" for c in every[1:]),
        f"kernelpilot task run T --impl triton_rows --case {every[0]}"]  # the other uncopied case rides along


def test_the_cli_prints_the_table_and_the_commands(norm_task_copy):
    task = load_task(norm_task_copy)
    planted_ledgers(task)
    shown = kp("task", "gaps", str(norm_task_copy))
    assert shown.returncode == 0, shown.stderr
    assert "what the ledgers lack on an H200 (14 cases of W)" in " ".join(shown.stdout.split())  # title may wrap
    assert "sglang_0_5_12: sglang 0.5.12: cannot import" in shown.stdout
    assert f"kernelpilot task run {norm_task_copy} --impl " in shown.stdout

    parsed = json.loads(kp("task", "gaps", str(norm_task_copy), "--json").stdout)
    assert parsed["impls"]["triton_rows_pair"]["failing"] == [small_cases(task)[0]]
    assert parsed["impls"]["torch_eager"]["timed"] == len(small_cases(task))
    assert parsed["without_same_size_copy"] == [c.id for c in task.cases]
    assert parsed["commands"] == gaps.fill_commands(str(norm_task_copy), task, gaps.survey(task))

    assert "not a task folder" in one_line_error(kp("task", "gaps", str(norm_task_copy.parent)))
