"""Plans: generation from a draft and a task folder, refinement of comments, validation of every section."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.loop import plan


def write_task(folder, arch="h200"):
    folder.mkdir()
    (folder / "workloads.yaml").write_text("cases:\n  - {id: ln_8640x5120, op: norm_infer}\n"
                                           "  - {id: rms_27030x24, op: rms_norm}\n")
    (folder / "task.yaml").write_text(f"arch: {arch}\n")
    return folder


def test_complete_plan_has_no_problems(kit):
    assert plan.plan_problems(kit.plan) == []


def test_every_missing_or_malformed_section_is_reported(kit):
    broken = (kit.plan.replace("## Path Boundaries\n\nOnly src/ may change.\n", "")
              .replace("  - Negative: a changed output fails the tests.\n", "")
              .replace("| T1 | Cache the table | AC-1 | coding | - |", "| T1 | Cache | AC-7 | design | T9 |"))
    problems = plan.plan_problems(broken)
    assert "missing section '## Path Boundaries'" in problems
    assert "AC-1 has no negative test ('- Negative: ...')" in problems
    assert "task T1 has tag 'design', expected coding or analyze" in problems
    assert "task T1 targets AC-7, which the plan does not define" in problems
    assert "task T1 depends on unknown task 'T9'" in problems
    assert "AC-1 has no task targeting it" in problems


def test_generate_adds_a_criterion_for_every_workload_case(tmp_path):
    task = write_task(tmp_path / "task")
    text = plan.generate("# Faster norms\nMake the norms faster.\n", task)
    assert "`ln_8640x5120`" in text and "`rms_27030x24`" in text and "on H200" in text
    assert f"Task folder: {task}" in text and plan.plan_task_dir(text) == str(task)
    problems = plan.plan_problems(text, task)
    assert "section 'Path Boundaries' still has a TODO placeholder" in problems
    assert not any("never name W case" in p for p in problems)


def test_dropping_a_shape_is_caught(tmp_path, kit):
    task = write_task(tmp_path / "task")
    problems = plan.plan_problems(kit.plan.replace("unchanged.", "unchanged for ln_8640x5120."), task)
    assert problems == ["acceptance criteria never name W case 'rms_27030x24' of op 'rms_norm' "
                        f"(from {task}/workloads.yaml)"]


def test_a_twin_reads_its_siblings_workloads_and_a_bad_twin_of_is_one_line(tmp_path, kit):
    sibling = write_task(tmp_path / "h200_norm")
    twin = tmp_path / "b200_norm"
    twin.mkdir()
    (twin / "task.yaml").write_text("arch: b200\ntwin_of: h200_norm\n")
    assert plan.workloads_file(twin) == sibling / "workloads.yaml"
    assert plan.workload_cases(twin) == [("norm_infer", "ln_8640x5120"), ("rms_norm", "rms_27030x24")]
    problems = plan.plan_problems(kit.plan.replace("unchanged.", "unchanged for ln_8640x5120."), twin)
    assert problems == ["acceptance criteria never name W case 'rms_27030x24' of op 'rms_norm' "
                        f"(from {sibling}/workloads.yaml)"]
    for twin_of, cause in [("[h200_norm]", "twin_of must name a sibling folder, not ['h200_norm']"),
                           ("h200_nowhere", f"twin_of names 'h200_nowhere', but {tmp_path}/h200_nowhere is not a "
                                            "task folder")]:
        (twin / "task.yaml").write_text(f"arch: b200\ntwin_of: {twin_of}\n")
        with pytest.raises(KernelPilotError) as raised:
            plan.require_task_dir(twin)
        assert str(raised.value) == f"{twin}/task.yaml: {cause}"


def test_a_folder_without_workloads_is_not_a_task(tmp_path, kit):
    with pytest.raises(KernelPilotError, match="not a task folder \\(no workloads.yaml\\)"):
        plan.plan_problems(kit.plan, tmp_path)


def test_refine_takes_comments_out_and_keeps_sections(kit):
    commented = kit.plan.replace("Cache the lookup table.", "Cache the lookup table.\n<!-- CMT: which cache? -->\n"
                                 "CMT: name the eviction rule")
    text, comments = plan.refine(commented)
    assert comments == ["which cache?", "name the eviction rule"]
    assert "CMT" not in text and plan.plan_problems(text) == []


def test_cli_gen_validate_and_bad_input(tmp_path, kit):
    draft = tmp_path / "draft.md"
    draft.write_text(kit.plan)
    out = tmp_path / "plan.md"
    run = lambda *a: subprocess.run([sys.executable, "-m", "kernelpilot", "plan", *a], capture_output=True, text=True)
    gen = run("gen", "--input", str(draft), "--output", str(out), "--json")
    assert gen.returncode == 0 and json.loads(gen.stdout)["problems"] == []
    assert run("validate", str(out)).returncode == 0
    out.write_text("# nothing\n")
    bad = run("validate", str(out))
    assert bad.returncode == 1 and "missing section '## Goal'" in bad.stdout
    missing = run("validate", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
