"""The evidence gate: the claims check against hand-written harness files, and hardware deferrals."""

from __future__ import annotations

import json
import subprocess
import sys

from kernelpilot.harness.environment import PROVENANCE_COLUMNS
from kernelpilot.harness.ledgers import append_results
from kernelpilot.loop.claims import claim_problems, extract_claims
from kernelpilot.loop.gate import hardware_deferrals, run_gate

ENV = ["H200", "132", "570.1", "12.8", "2.11", "3.6", "1980", "3201", "abc1234"]


def row(speedup="1.21", gbps="3912", fraction="0.92", compute="", env=ENV):
    """A results.csv row whose only figures are the ones given: every other column stays empty."""
    return {"run_id": "r7", "case": "c1", "impl": "tri", "impl_kind": "candidate", "speedup_device": speedup,
            "gbps": gbps, "copy_fraction": fraction, "compute_fraction": compute, **dict(zip(PROVENANCE_COLUMNS, env))}


def task(tmp_path, *rows, geomean=None):
    folder = tmp_path / "task"
    (folder / "benchmarks").mkdir(parents=True)
    (folder / "workloads.yaml").write_text("cases:\n  - {id: c1, op: norm}\n")
    append_results(folder, list(rows))  # the header alone when there are no rows
    if geomean is not None:
        (folder / "benchmarks" / "performance-map.json").write_text(json.dumps(
            {"summary": {"geomean_speedup_device": geomean}}))
    return folder


def test_claims_are_extracted_with_their_printed_rounding():
    claims = extract_claims("1.8x faster, 2\u00d7 on small, a 4x4 tile, 3.9 TB/s, 3900 GB/s, 92% of the copy ceiling")
    assert [(c.kind, c.text, c.value, c.tolerance) for c in claims] == [
        ("speedup", "1.8x", 1.8, 0.05), ("speedup", "2\u00d7", 2.0, 0.5),
        ("bandwidth", "3.9 TB/s", 3900.0, 50.0), ("bandwidth", "3900 GB/s", 3900.0, 0.5),
        ("copy fraction", "92% of the copy ceiling", 0.92, 0.005)]


def test_compute_ceiling_claims_are_their_own_kind():
    claims = extract_claims("60% of the compute ceiling, 61.5% of the matmul ceiling, 58% of peak, "
                            "92% of peak bandwidth")
    assert [(c.kind, c.text, c.value, c.tolerance) for c in claims] == [
        ("copy fraction", "92% of peak bandwidth", 0.92, 0.005),
        ("compute fraction", "60% of the compute ceiling", 0.6, 0.005),
        ("compute fraction", "61.5% of the matmul ceiling", 0.615, 0.0005),
        ("compute fraction", "58% of peak", 0.58, 0.005)]


def test_a_compute_claim_is_backed_by_compute_fraction_only(tmp_path):
    folder = task(tmp_path, row(fraction="0.92", compute="0.6"))
    assert claim_problems("60% of the compute ceiling", folder) == []
    problems = claim_problems("92% of the compute ceiling", folder)
    assert len(problems) == 1
    assert "(a compute fraction of 0.915..0.925 of the compute ceiling)" in problems[0]
    assert "compute_fraction=0.6" in problems[0]


def test_a_copy_claim_is_not_backed_by_compute_fraction(tmp_path):
    problems = claim_problems("92% of the copy ceiling", task(tmp_path, row(fraction="", compute="0.92")))
    assert len(problems) == 1
    assert "(a copy fraction of 0.915..0.925 of the copy ceiling)" in problems[0]
    assert "has no copy fraction figure with its environment (columns copy_fraction)" in problems[0]


def test_backed_claims_pass(tmp_path):
    folder = task(tmp_path, row())
    assert claim_problems("1.2x, 3.9 TB/s, 92% of the copy ceiling, 1.21x", folder) == []


def test_overclaim_names_the_discrepancy(tmp_path):
    problems = claim_problems("intro\nwe reach 1.8x over SGLang", task(tmp_path, row()))
    assert len(problems) == 1
    assert 'line 2 claims "1.8x" (a speedup of 1.75..1.85x)' in problems[0]
    assert "speedup_device=1.21" in problems[0] and "run r7, case c1, impl tri, H200" in problems[0]


def test_rows_without_environment_back_nothing(tmp_path):
    problems = claim_problems("1.2x", task(tmp_path, row(env=[""] + ENV[1:])))
    assert problems and "has no speedup figure with its environment" in problems[0]


def test_geomean_backs_a_speedup_and_wrong_header_is_reported(tmp_path):
    folder = task(tmp_path, geomean=1.47)
    assert claim_problems("geomean 1.47x", folder) == []
    (folder / "benchmarks" / "results.csv").write_text("run_id,gpu\n")
    assert any("header does not match the results format" in p for p in claim_problems("1.47x", folder))


def test_gate_report_and_cli(tmp_path):
    folder = task(tmp_path, row())
    (tmp_path / "s.md").write_text("we got 1.8x\n")
    report = run_gate(folder, "we got 1.8x")
    assert not report.ok and report.lines()[0].startswith("FAIL")
    cli = subprocess.run([sys.executable, "-m", "kernelpilot", "loop", "gate", "--task", str(folder), "--summary",
                          str(tmp_path / "s.md")], capture_output=True, text=True, cwd=tmp_path)
    assert cli.returncode == 1 and "FAILED" in cli.stdout and '"1.8x"' in cli.stdout
    (tmp_path / "s.md").write_text("we got 1.2x\n")
    ok = subprocess.run([sys.executable, "-m", "kernelpilot", "loop", "gate", "--task", str(folder), "--summary",
                         str(tmp_path / "s.md"), "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True


def test_hardware_criteria_are_deferred_with_the_reason(kit):
    text = kit.plan.replace("the widget's output is unchanged.", "device time meets the target on B200.")
    assert hardware_deferrals(text, []) == [
        {"criterion": "AC-1", "reason": "needs B200; this machine has no NVIDIA GPU"}]
    assert hardware_deferrals(text, ["NVIDIA H100 80GB HBM3"])[0]["reason"].endswith("has NVIDIA H100 80GB HBM3")
    assert hardware_deferrals(text, ["NVIDIA B200"]) == []
    assert hardware_deferrals(kit.plan, []) == []
