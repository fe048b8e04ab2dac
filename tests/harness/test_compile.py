"""`task compile` compiles what the interpreter never does: a kernel whose GPU-only branch is broken fails here
while it passes the interpreter check."""

import json

from clirun import kp, one_line_error

from kernelpilot.harness import runner
from kernelpilot.harness.resources import resident_warps
from kernelpilot.harness.spec import load_task

BROKEN_PDL = '''"""A copy kernel whose programmatic-dependent-launch branch calls a function that does not exist."""
import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher

PARENT = "triton_rows"
MUTATION = "a planted fault in the PDL branch"
EVIDENCE = []
SOURCE = "written for this test"


@triton.jit
def _copy(X, Y, n, BLOCK: tl.constexpr, PDL: tl.constexpr):
    if PDL:
        grid_dependency_wait_misspelled()
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(Y + offsets, tl.load(X + offsets, mask=offsets < n), mask=offsets < n)


_launch = CachedLauncher(_copy, pdl=True)


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    y = torch.empty_like(x) if out is None else out
    _launch(x.dtype, (triton.cdiv(x.numel(), 1024),), (x, y, x.numel(), 1024), num_warps=4)
    return y
'''


def test_a_broken_gpu_only_branch_fails_to_compile_and_a_sound_kernel_compiles(norm_task_copy):
    (norm_task_copy / "candidates" / "broken_pdl.py").write_text(BROKEN_PDL)
    outcome = runner.compile_candidates(load_task(norm_task_copy), ["broken_pdl", "triton_rows_pdl", "cuda_rows",
                                                                    "torch_eager"])
    broken, sound = outcome.results["broken_pdl"], outcome.results["triton_rows_pdl"]
    assert outcome.sm == "sm_90"
    assert not runner.compiled_everywhere(broken)
    assert all("grid_dependency_wait_misspelled" in c["error"] for c in broken.cases.values())
    assert runner.compiled_everywhere(sound)
    assert {k for c in sound.cases.values() for k in c["kernels"]} == {"_norm_rows_kernel"}
    assert set(outcome.skipped) == {"cuda_rows", "torch_eager"}
    # under the interpreter the PDL branch is never taken: the fault goes unseen there
    interpreted = runner.check(load_task(norm_task_copy), ["broken_pdl"], interpret=True).attempts[0]
    assert set(interpreted["correctness"]["cases"]) == set(broken.cases)
    assert not any("misspelled" in (c.get("error") or "") for c in interpreted["correctness"]["cases"].values())


def test_the_cli_exits_non_zero_on_a_compile_failure_and_reports_json(norm_task_copy):
    (norm_task_copy / "candidates" / "broken_pdl.py").write_text(BROKEN_PDL)
    failing = kp("task", "compile", str(norm_task_copy), "--json", "--impl", "broken_pdl")
    assert failing.returncode == 1
    assert json.loads(failing.stdout)["sm"] == "sm_90"
    passing = kp("task", "compile", str(norm_task_copy), "--json", "--impl", "triton_rows")
    assert passing.returncode == 0, passing.stdout
    cases = json.loads(passing.stdout)["results"]["triton_rows"]["cases"]
    assert all(c["replay"].startswith("replayable") for c in cases.values())


def test_the_table_counts_the_calls_a_replay_can_serve(norm_task_copy):
    table = kp("task", "compile", str(norm_task_copy), "--impl", "triton_rows", "--impl", "cuda_rows")
    row = next(line for line in table.stdout.splitlines() if line.startswith("│ triton_rows "))
    compiled = row.split("│")[3].strip()
    assert table.returncode == 0 and compiled.count("/") == 1
    assert row.split("│")[5].strip() == compiled, row


def test_an_unknown_candidate_is_a_one_line_error(norm_task_copy):
    result = kp("task", "compile", str(norm_task_copy), "--impl", "nope")
    assert result.returncode == 2 and "'nope'" in one_line_error(result)


def test_a_candidate_that_launches_no_triton_kernel_shows_nothing_and_fails(norm_task_copy):
    (norm_task_copy / "candidates" / "eager_only.py").write_text(
        '"""Plain PyTorch: nothing for the compiler to check."""\n'
        "def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):\n"
        "    return x.clone()\n")
    result = runner.compile_candidates(load_task(norm_task_copy), ["eager_only"]).results["eager_only"]
    assert all(c["passed"] and c["kernels"] == [] for c in result.cases.values())
    assert runner.compile_failure(result) == "launched no Triton kernel on any case"


SPILLING = '''"""A row copy that holds a whole 16K-element fp32 row in one warp's registers: ptxas must spill."""
import torch
import triton
import triton.language as tl

from kernelpilot.launch import CachedLauncher

PARENT = "triton_rows"
MUTATION = "a planted register blow-up"
EVIDENCE = []
SOURCE = "written for this test"


@triton.jit
def _hoard(X, Y, n, BLOCK: tl.constexpr):
    offsets = tl.arange(0, BLOCK)
    row = tl.load(X + offsets, mask=offsets < n, other=0.0)
    tl.store(Y + offsets, row * tl.sum(row * row, 0), mask=offsets < n)


_launch = CachedLauncher(_hoard)


def norm_infer(x, weight, bias, eps, is_rms_norm=False, out=None):
    y = torch.empty_like(x) if out is None else out
    _launch(x.dtype, (1,), (x, y, x.numel(), 16384), num_warps=1)
    return y
'''


def test_registers_spills_and_occupancy_come_from_the_cubin(norm_task_copy):
    (norm_task_copy / "candidates" / "hoarding.py").write_text(SPILLING)
    case_id = "edge_rms_noaffine_19x256_bf16"
    outcome = runner.compile_candidates(load_task(norm_task_copy), ["hoarding", "triton_rows"], case_ids=[case_id])
    (hoard,) = outcome.results["hoarding"].cases[case_id]["resources"]
    assert hoard["kernel"] == "_hoard" and hoard["warps"] == 1
    assert hoard["local_bytes"] > 0 and hoard["registers"] > 128  # 512 fp32 a thread do not fit in 255 registers
    assert (hoard["resident_warps"], hoard["limited_by"]) == (resident_warps(1, hoard["registers"], 1024)[0],
                                                              "registers")
    (rows,) = outcome.results["triton_rows"].cases[case_id]["resources"]
    assert rows["kernel"] == "_norm_rows_kernel" and rows["local_bytes"] == 0
    assert 0 < rows["registers"] <= 255 and rows["resident_warps"] % rows["warps"] == 0
    assert rows["occupancy"] == rows["resident_warps"] / 64
    assert rows["global_loads"].get("128") and rows["global_stores"].get("128")  # 16-byte vectors on these rows


def test_the_resources_table_names_the_spill_and_the_fewest_warps(norm_task_copy):
    (norm_task_copy / "candidates" / "hoarding.py").write_text(SPILLING)
    table = kp("task", "compile", str(norm_task_copy), "--impl", "hoarding", env={"COLUMNS": "250"})
    assert table.returncode == 0, table.stdout
    resources = table.stdout[table.stdout.index("occupancy on sm_90"):]
    row = next(line for line in resources.splitlines() if line.startswith("│ hoarding "))
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[1:3] == ["_hoard", "1"] and int(cells[3].split("-")[-1]) > 128 and int(cells[4]) > 0
    assert cells[6] == "0" and cells[7].endswith("/64 (registers)"), cells  # no barrier: no load behind one


def test_all_cases_compiles_over_the_whole_workload(norm_task_copy):
    task = load_task(norm_task_copy)
    assert len(task.cases) > len(task.cases_for(interpret_only=True))
    result = kp("task", "compile", str(norm_task_copy), "--impl", "triton_rows", "--all-cases", "--json")
    assert result.returncode == 0, result.stderr
    cases = json.loads(result.stdout)["results"]["triton_rows"]["cases"]
    assert set(cases) == {case.id for case in task.cases} and all(c["resources"] for c in cases.values())


def test_a_refactor_that_changes_no_instruction_keeps_every_sass_digest(norm_task_copy):
    candidates = norm_task_copy / "candidates"
    source = (candidates / "triton_rows.py").read_text()
    (candidates / "triton_rows_renamed.py").write_text(source.replace('"""', '"""Renamed, otherwise the same. ', 1))
    outcome = runner.compile_candidates(load_task(norm_task_copy), ["triton_rows", "triton_rows_renamed"])

    def digests(name):
        return {case: [k["sass_digest"] for k in c["resources"]] for case, c in outcome.results[name].cases.items()}

    assert digests("triton_rows") == digests("triton_rows_renamed")
    assert len({d for ds in digests("triton_rows").values() for d in ds}) > 1  # the cases' specializations differ


def test_a_cuobjdump_that_fails_leaves_the_compile_verdict_and_says_why_resources_are_missing(norm_task_copy, tmp_path,
                                                                                           monkeypatch):
    broken = tmp_path / "cuobjdump"  # answers Triton's version probe, then fails as a mismatched build would
    broken.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo "Cuda compilation tools, release 12.8, V12.8.93";'
                      ' exit 0; fi\nexit 3\n')
    broken.chmod(0o755)
    monkeypatch.setenv("TRITON_CUOBJDUMP_PATH", str(broken))
    result = runner.compile_candidates(load_task(norm_task_copy), ["triton_rows"]).results["triton_rows"]
    assert runner.compiled_everywhere(result)
    assert all(c["resources"] == [] and "exit status 3" in c["resources_error"] for c in result.cases.values())
