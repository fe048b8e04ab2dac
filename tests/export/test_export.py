"""`kernelpilot task export` on committed copies of the real norm task: output, stamps, idempotence, refusals."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kda_kernels
from kernelpilot.errors import KernelPilotError
from kernelpilot.export.package import _speedup_runs, export_task
from kernelpilot.harness import ledgers
from kernelpilot.harness.spec import load_task

COMMITTED = Path(kda_kernels.__file__).parent


def family_files(package: Path) -> dict[str, str]:
    folder = package / "diffusion"
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.py")) if "__pycache__" not in p.parts}


def test_the_committed_export_is_what_exporting_the_task_writes(committed_task, tmp_path):
    exported = export_task(committed_task, tmp_path / "kda_kernels")
    assert exported.changed and exported.optimized == {"norm_infer": True, "triton_one_pass_rms_norm": True}
    fresh = family_files(tmp_path / "kda_kernels")
    committed = family_files(COMMITTED)
    commit = _manifest(tmp_path / "kda_kernels")["commit"]
    # Only the commit differs: the scratch repository is not the one the committed export came from.
    normalized = {name: text.replace(commit, _manifest(COMMITTED)["commit"]) for name, text in fresh.items()}
    assert normalized == committed


def test_stamps_come_from_the_ledgers(committed_task, tmp_path):
    export_task(committed_task, tmp_path / "kda_kernels")
    family = _family_namespace(tmp_path / "kda_kernels")
    perf_map = json.loads((committed_task / "benchmarks" / "performance-map.json").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=committed_task, capture_output=True, text=True).stdout
    assert family["KDA_COMMIT_norm_infer"] == {"h200": head.strip()}
    assert family["KDA_TASK_norm_infer"] == {"h200": committed_task.name}
    measured = next(row["timestamp"] for row in ledgers.read_results(committed_task)
                    if row["run_id"] == perf_map["run_id"])
    assert family["KDA_DATE_norm_infer"] == {"h200": measured}  # when the winners were timed, not when mapped
    assert family["KDA_ARCHES_norm_infer"] == ("h200",)
    served = [c for c in perf_map["ops"]["norm_infer"]["cases"] if c["winner"].startswith("triton_")]
    speedup = family["KDA_SPEEDUP_norm_infer"]["h200"]
    expected = 1.0
    for case in served:
        expected *= case["speedup_device"] ** (1 / len(served))
    assert speedup["geomean"] == pytest.approx(expected, abs=1e-4)
    assert (speedup["device"], speedup["cases"]) == (perf_map["env"]["gpu"], len(served))
    assert perf_map["run_id"] in speedup["runs"] and speedup["runs"] == _speedup_runs(perf_map, served)


def test_the_speedup_stamp_names_every_run_its_timings_come_from(committed_task):
    """A map over narrowed runs takes a case's baseline timing from an earlier run: the stamp names both."""
    perf_map = json.loads((committed_task / "benchmarks" / "performance-map.json").read_text())
    served = [c for c in perf_map["ops"]["norm_infer"]["cases"] if c["winner"].startswith("triton_")]
    served[0]["impls"][served[0]["fastest_target_baseline"]]["run_id"] = "20261101T000000Z-earlier"
    runs = _speedup_runs(perf_map, served)
    assert {"20261101T000000Z-earlier", perf_map["run_id"]} <= set(runs) and runs == sorted(set(runs))


def promoted(task: Path) -> list[str]:
    """The candidates the committed performance map gives a bucket to: what the export ships."""
    perf_map = json.loads((task / "benchmarks" / "performance-map.json").read_text())
    winners = {winner for op in perf_map["ops"].values() for winner in op["buckets"].values()}
    return sorted(winners & set(load_task(task).candidate_names()))


def test_only_promoted_candidates_and_their_helpers_are_copied(committed_task, tmp_path):
    export_task(committed_task, tmp_path / "kda_kernels")
    arch = tmp_path / "kda_kernels" / "diffusion" / "norm_infer" / "_impls" / "h200"
    shipped = promoted(committed_task)
    assert shipped and len(shipped) < len(load_task(committed_task).candidate_names())
    assert sorted(p.name for p in arch.iterdir()) == ["__init__.py", "_norm_rows.py", "dispatch.py",
                                                     *(f"{name}.py" for name in shipped)]
    for name in shipped:
        source = (arch / f"{name}.py").read_text()
        assert "from ._norm_rows import RowNorm" in source and "\nfrom _norm_rows" not in source


def test_exporting_again_writes_nothing(committed_task, tmp_path):
    package = tmp_path / "kda_kernels"
    export_task(committed_task, package)
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*")}
    again = export_task(committed_task, package)
    assert not again.changed
    assert {p: p.stat().st_mtime_ns for p in package.rglob("*")} == before


def test_a_new_run_replaces_the_arch_folder_whole(committed_task, tmp_path):
    package = tmp_path / "kda_kernels"
    export_task(committed_task, package)
    stale = package / "diffusion" / "norm_infer" / "_impls" / "h200" / "old_candidate.py"
    stale.write_text("# from an earlier export\n")
    assert export_task(committed_task, package).changed
    siblings = sorted(p.name for p in stale.parent.parent.iterdir())
    assert not stale.exists() and siblings == ["__init__.py", "h200"]


def test_a_partial_promotion_keeps_sglang_for_the_rest(committed_task, tmp_path, commit):
    perf_map_path = committed_task / "benchmarks" / "performance-map.json"
    perf_map = json.loads(perf_map_path.read_text())
    op = perf_map["ops"]["triton_one_pass_rms_norm"]
    op["buckets"] = {bucket: "sglang_0_5_23" for bucket in op["buckets"]}
    for case in op["cases"]:
        case["winner"] = "sglang_0_5_23"
    perf_map_path.write_text(json.dumps(perf_map, indent=2))
    commit(committed_task.parent, "only norm_infer promoted")

    exported = export_task(committed_task, tmp_path / "kda_kernels")

    assert exported.optimized == {"norm_infer": True, "triton_one_pass_rms_norm": False}
    family = _family_namespace(tmp_path / "kda_kernels")
    assert family["KDA_OPTIMIZED_triton_one_pass_rms_norm"] is False
    assert family["KDA_ARCHES_triton_one_pass_rms_norm"] == () and family["KDA_SPEEDUP_triton_one_pass_rms_norm"] == {}


def test_both_arches_of_a_family_are_kept(committed_task, measured_twin, tmp_path):
    b200 = measured_twin
    package = tmp_path / "kda_kernels"

    export_task(committed_task, package)
    export_task(b200, package)

    family = _family_namespace(package)
    impls = package / "diffusion" / "norm_infer" / "_impls"
    assert sorted(p.name for p in impls.iterdir()) == ["__init__.py", "b200", "h200"]
    # The twin's promoted candidates are the ones it inherits from its sibling's candidates/.
    assert sorted(p.name for p in (impls / "b200").iterdir()) == sorted(p.name for p in (impls / "h200").iterdir())
    for name in promoted(committed_task):
        assert (impls / "b200" / f"{name}.py").read_text() == (impls / "h200" / f"{name}.py").read_text()
    assert "arches=('b200', 'h200')" in (package / "diffusion" / "norm_infer" / "__init__.py").read_text()
    assert family["KDA_ARCHES_norm_infer"] == ("b200", "h200")
    assert family["KDA_TASK_norm_infer"] == {"b200": b200.name, "h200": committed_task.name}


@pytest.mark.parametrize("damage, message", [
    (lambda root: _append(root / "ledgers" / "attempts.jsonl", '{"candidate": "broken"}\n'), "attempts.jsonl:"),
    (lambda root: _drop_passing_case(root, "triton_rows_pair"), "promoted candidate triton_rows_pair lacks"),
    (lambda root: _append(root / "benchmarks" / "results.csv", "x,y\n"), "results.csv"),
])
def test_refuses_a_task_whose_evidence_does_not_hold(committed_task, tmp_path, commit, damage, message):
    damage(committed_task)
    commit(committed_task.parent, "damaged")
    with pytest.raises(KernelPilotError, match=message):
        export_task(committed_task, tmp_path / "kda_kernels")
    assert not (tmp_path / "kda_kernels").exists()


def test_refuses_uncommitted_changes(committed_task, tmp_path):
    _append(committed_task / "candidates" / "triton_rows.py", "# edited after the benchmark\n")
    with pytest.raises(KernelPilotError, match="uncommitted changes .*triton_rows.py"):
        export_task(committed_task, tmp_path / "kda_kernels")


def test_refuses_a_task_outside_git(norm_task, tmp_path):
    root = tmp_path / "repo" / norm_task.name
    shutil.copytree(norm_task, root, ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(KernelPilotError, match=f"{root} is not in a git repository"):
        export_task(root, tmp_path / "kda_kernels")
    assert not (tmp_path / "kda_kernels").exists()


def test_refuses_a_candidate_importing_kernelpilot_beyond_the_runtime(committed_task, tmp_path, commit):
    _append(committed_task / "candidates" / "_norm_rows.py", "from kernelpilot.harness import spec\n")
    commit(committed_task.parent, "imports the harness")
    with pytest.raises(KernelPilotError, match="_norm_rows.py:.*kernelpilot.harness, which kda_kernels does not carry"):
        export_task(committed_task, tmp_path / "kda_kernels")


def test_refuses_a_promoted_candidate_whose_parameters_differ_from_the_op(committed_task, tmp_path, commit):
    name = promoted(committed_task)[0]
    path = committed_task / "candidates" / f"{name}.py"
    path.write_text(path.read_text().replace("def triton_one_pass_rms_norm(x, w, eps=1e-6):",
                                             "def triton_one_pass_rms_norm(w, x, eps=1e-6):"))
    commit(committed_task.parent, "parameters out of order")
    with pytest.raises(KernelPilotError, match=rf"{name}.py:\d+: triton_one_pass_rms_norm\(w, x, eps\) does not "
                                               r"take the op's parameters \(x, w, eps\)"):
        export_task(committed_task, tmp_path / "kda_kernels")
    assert not (tmp_path / "kda_kernels").exists()


def test_cli_exports_and_reports_bad_input_in_one_line(committed_task, tmp_path):
    command = [sys.executable, "-m", "kernelpilot", "task", "export", str(committed_task),
               "--package", str(tmp_path / "kda_kernels"), "--json"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    assert reported["optimized"] == {"norm_infer": True, "triton_one_pass_rms_norm": True}
    assert reported == {"task": committed_task.name, "arch": "h200", "changed": True, "optimized": reported["optimized"],
                        "folder": str(tmp_path / "kda_kernels" / "diffusion" / "norm_infer")}
    missing = subprocess.run(command[:5] + [str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "not a task folder" in missing.stderr


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def _drop_passing_case(root: Path, candidate: str) -> None:
    path = root / "ledgers" / "attempts.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    latest = [r for r in records if r["candidate"] == candidate and r["stage"] == "check"
              and not r["correctness"].get("interpret")][-1]  # the GPU check the evidence rests on
    case = next(iter(latest["correctness"]["cases"]))
    latest["correctness"]["cases"][case]["passed"] = False
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _manifest(package: Path) -> dict:
    namespace: dict = {}
    exec((package / "diffusion" / "norm_infer" / "_impls" / "h200" / "__init__.py").read_text(), namespace)
    return namespace["MANIFEST"]


def _family_namespace(package: Path) -> dict:
    """The family module's globals, executed from the exported file (it imports only kda_kernels' runtime)."""
    namespace: dict = {"__name__": "kda_test_family"}
    exec((package / "diffusion" / "norm_infer" / "__init__.py").read_text(), namespace)
    return namespace
