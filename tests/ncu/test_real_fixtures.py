"""Real Nsight Compute reports, captured on a GPU from tests/ncu/fixture_kernels.py by
scripts/gpu/capture_ncu_fixtures.sh: each must be classified as its expected.json says, and every bottleneck
class must be reached by some real report or be listed in fixtures/known_gaps.json with the reason."""

import json
from pathlib import Path

import pytest

from kernelpilot.ncu.diagnose import CLASSES
from kernelpilot.ncu.digest import digest
from kernelpilot.ncu.quantities import Resolver
from kernelpilot.ncu.report import read_report
from kernelpilot.schemas import schema_errors

FIXTURES = Path(__file__).parent / "fixtures"


def _expectations(field: str) -> list[tuple[Path, str, str]]:
    cases = []
    for expected in sorted(FIXTURES.glob("*/expected.json")):
        for entry in json.loads(expected.read_text())["kernels"]:
            if entry.get(field):
                cases.append((expected.parent, entry["kernel"], entry[field]))
    return cases


CASES = _expectations("class")
# The details page alone, where it carries the evidence (expected.json notes why it does not for the others).
DETAILS_ONLY = _expectations("details_only_class")


def test_the_real_fixtures_are_committed():
    """The reports are committed, so their absence is a failure, never a reason to skip the tests below."""
    assert {folder.name for folder, _, _ in CASES} >= {"all_kernels", "copy", "row_sum", "row_center_spill",
                                                        "tail_chase"}
    assert len(CASES) >= 17 and len(DETAILS_ONLY) >= 15


@pytest.mark.parametrize("folder, kernel, expected", CASES,
                         ids=[f"{folder.name}:{kernel}" for folder, kernel, _ in CASES])
def test_real_report_is_classified_as_captured(folder, kernel, expected):
    result = digest(str(folder), kernel=kernel)
    assert schema_errors(result, "ncu_digest") == []
    got = [(item["identity"]["kernel"], item["bottleneck"]["class"]) for item in result["kernels"]]
    assert got and all(klass == expected for _, klass in got), got


@pytest.mark.parametrize("folder, kernel, expected", DETAILS_ONLY,
                         ids=[f"{folder.name}:{kernel}" for folder, kernel, _ in DETAILS_ONLY])
def test_details_page_alone_gives_the_same_class(folder, kernel, expected):
    result = digest(str(folder / "details.csv"), kernel=kernel)
    assert [item["bottleneck"]["class"] for item in result["kernels"]] == [expected]


def test_every_class_is_reached_by_a_real_report_or_declared_a_gap():
    reached = {klass for _, _, klass in CASES}
    gaps = json.loads((FIXTURES / "known_gaps.json").read_text())
    assert not reached & set(gaps), "a class reached by a real report is still listed as a gap"
    assert set(CLASSES) == reached | set(gaps), set(CLASSES) - reached - set(gaps)
    assert all(len(reason) > 20 for reason in gaps.values())


def test_auto_scaled_export_reads_like_the_base_units_export():
    pairs = [(path.parent / "raw.csv", path) for path in FIXTURES.glob("*/raw_autounits.csv")]
    assert pairs, "keep at least one export without --print-units base"
    for base, auto in pairs:
        base_launches, auto_launches = read_report(base), read_report(auto)
        assert [launch.name for launch in base_launches] == [launch.name for launch in auto_launches]
        for left, right in zip(base_launches, auto_launches):
            for key in ("duration_ns", "dram_bytes", "shared_per_block", "dram_pct", "sm_pct", "registers"):
                a, b = Resolver(left).get(key), Resolver(right).get(key)
                assert (a is None) == (b is None), key
                if a is not None:
                    # auto units print 3-4 significant digits
                    assert b == pytest.approx(a, rel=5e-3, abs=1e-9), (auto, key)


def test_ncu_rep_reads_like_its_csv_exports():
    pytest.importorskip("ncu_report")
    reports = sorted(FIXTURES.glob("*/report.ncu-rep"))
    assert reports, "copy/report.ncu-rep is committed"
    for report in reports:
        from_rep = digest(str(report))
        from_csv = digest(str(report.parent))
        assert [k["bottleneck"]["class"] for k in from_rep["kernels"]] == \
            [k["bottleneck"]["class"] for k in from_csv["kernels"]]
        assert from_rep["kernels"][0]["rule_findings"], "rule results come through ncu_report too"


def test_each_kernel_of_a_multi_kernel_report_is_digested():
    result = digest(str(FIXTURES / "all_kernels"))
    names = [item["identity"]["kernel"] for item in result["kernels"]]
    assert len(names) == 13 and len(set(names)) == 13
    assert all(item["bottleneck"]["next_edit"]["metric"] for item in result["kernels"])


def test_baseline_on_real_reports_shows_the_spill_fix():
    """The spilling row kernel as the baseline, the plain row reduction as the candidate that fixed it."""
    result = digest(str(FIXTURES / "row_sum"), baseline=str(FIXTURES / "row_center_spill"))
    comparison = result["kernels"][0]["comparison"]
    assert comparison["class_shift"] == {"from": "register-spill-bound", "to": "dram-bound", "shifted": True}
    deltas = {row["metric"]: row for row in comparison["deltas"]}
    assert deltas["local_sectors"]["baseline"] > 1e7 and deltas["local_sectors"]["current"] == 0
    assert deltas["duration_ns"]["better"] is True and deltas["dram_pct"]["better"] is True


def test_a_full_capture_exposes_all_three_stall_families():
    families = digest(str(FIXTURES / "copy"))["kernels"][0]["stalls"]["families"]
    assert set(families) == {"warp_state", "pc_sampling", "pm_sampling"}
    assert all(rows[0]["reason"] == "long_scoreboard" for rows in families.values())
