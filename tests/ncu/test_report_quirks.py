"""Every parsing quirk of real Nsight Compute exports, on small snippets shaped like them."""

import sys

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.ncu.diagnose import Evidence, launch_shape
from kernelpilot.ncu.quantities import Resolver, stall_families
from kernelpilot.ncu.report import read_report, select

SOL = "GPU Speed Of Light Throughput"

BASE_UNITS = {"gpu__time_duration.sum": "nsecond", "dram__bytes_read.sum": "byte", "dram__bytes_write.sum": "byte",
              "dram__bytes.sum.per_second": "byte/second", "launch__shared_mem_per_block_static": "byte/block"}
AUTO_UNITS = {"gpu__time_duration.sum": "usecond", "dram__bytes_read.sum": "Mbyte", "dram__bytes_write.sum": "Kbyte",
              "dram__bytes.sum.per_second": "Tbyte/second", "launch__shared_mem_per_block_static": "Kbyte/block"}


def test_auto_scaled_and_base_units_read_the_same(write, raw_csv):
    base = write("base.csv", raw_csv(BASE_UNITS, [("k", {
        "gpu__time_duration.sum": "92,265", "dram__bytes_read.sum": "268,435,456", "dram__bytes_write.sum": "4,096",
        "dram__bytes.sum.per_second": "2,909,000,000,000", "launch__shared_mem_per_block_static": "34,816"})]))
    auto = write("auto.csv", raw_csv(AUTO_UNITS, [("k", {
        "gpu__time_duration.sum": "92.265", "dram__bytes_read.sum": "268.435456", "dram__bytes_write.sum": "4.096",
        "dram__bytes.sum.per_second": "2.909", "launch__shared_mem_per_block_static": "34.816"})]))
    for path in (base, auto):
        resolver = Resolver(read_report(path)[0])
        assert resolver.get("duration_ns") == pytest.approx(92265)
        assert resolver.get("dram_bytes") == pytest.approx(268435456 + 4096)
        assert resolver.get("dram_bytes_per_s") == pytest.approx(2.909e12)
        assert resolver.get("shared_static") == pytest.approx(34816)


def test_a_missing_percentage_is_derived_from_its_parts(write, raw_csv):
    """One chip's full set lacks the DRAM percentage while bytes, duration and the DRAM peak exist."""
    path = write("raw.csv", raw_csv(
        {"gpu__time_duration.sum": "nsecond", "dram__bytes_read.sum": "byte", "dram__bytes_write.sum": "byte",
         "dram__bytes.sum.peak_sustained": "byte/cycle", "dram__cycles_elapsed.avg.per_second": "cycle/nsecond"},
        [("k", {"gpu__time_duration.sum": "150000", "dram__bytes_read.sum": "300000000",
                "dram__bytes_write.sum": "100000000", "dram__bytes.sum.peak_sustained": "1,024",
                "dram__cycles_elapsed.avg.per_second": "3.2"})]))
    resolver = Resolver(read_report(path)[0])
    # 4e8 bytes in 150 us = 2.67 TB/s against a 1024 B/cycle x 3.2 GHz = 3.28 TB/s peak: 81.4%
    assert resolver.get("dram_pct") == pytest.approx(100 * (4e8 / 150e-6) / (1024 * 3.2e9))
    assert resolver.source("dram_pct").startswith("derived:")


def test_equivalent_names_are_tried_in_order(write, raw_csv):
    path = write("raw.csv", raw_csv({"dram__throughput.avg.pct_of_peak_sustained_elapsed": "%",
                                     "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active": "%",
                                     "sm__inst_executed_pipe_tensor_op_gmma.avg.pct_of_peak_sustained_active": "%"},
                                    [("k", {"dram__throughput.avg.pct_of_peak_sustained_elapsed": "71.5",
                                            "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active": "3",
                                            "sm__inst_executed_pipe_tensor_op_gmma.avg.pct_of_peak_sustained_active": "64"})]))
    resolver = Resolver(read_report(path)[0])
    assert resolver.get("dram_pct") == 71.5
    assert resolver.source("dram_pct") == "dram__throughput.avg.pct_of_peak_sustained_elapsed"
    assert resolver.get("tensor_pct") == 64  # wgmma counts on sm_90: the busiest tensor measure wins


def test_ragged_details_rows_metrics_by_display_name_rules_by_identifier(write, details_csv):
    path = write("details.csv", details_csv([("fx_copy_kernel", [
        (SOL, "Duration", "us", "120.50"),
        (SOL, "DRAM Throughput", "%", "89.10"),
        ("Memory Workload Analysis", "Memory Throughput", "Tbyte/s", "4.45"),
        ("Launch Statistics", "Registers Per Thread", "register/thread", "32"),
        ("Launch Statistics", "Grid Size", "", "16,384"),
        ("Launch Statistics", "# SMs", "SM", "132"),
        ("rule", "SpeedOfLight", "SOLBottleneck", "OPT", "Memory is more heavily utilized than Compute.", "", ""),
        ("rule", "LaunchStats", "LaunchConfiguration", "OPT", "A partial wave may account for up to 50.0% of the "
         "total runtime of this kernel.", "global", "50"),
    ])]))
    text = path.read_text()
    assert text.splitlines()[1].endswith('"120.50",')  # the ragged shape under test
    launch = read_report(path)[0]
    resolver = Resolver(launch)
    assert resolver.get("duration_ns") == pytest.approx(120500)
    assert resolver.get("dram_pct") == pytest.approx(89.1)
    assert resolver.get("grid_blocks") == 16384
    assert resolver.get("dram_bytes_per_s") == pytest.approx(4.45e12)
    assert resolver.get("memory_pct") is None  # the MWA "Memory Throughput" is a rate, not the SOL percentage
    assert [(r.section, r.rule, r.speedup_pct, r.speedup_kind) for r in launch.rules] == [
        ("SpeedOfLight", "SOLBottleneck", None, ""), ("LaunchStats", "LaunchConfiguration", 50.0, "global")]


def test_several_kernels_pick_by_regex_or_digest_each(write, raw_csv):
    units = {"gpu__time_duration.sum": "nsecond"}
    path = write("raw.csv", raw_csv(units, [("fx_init_kernel", {"gpu__time_duration.sum": "10"}),
                                            ("fx_copy_kernel", {"gpu__time_duration.sum": "20"}),
                                            ("fx_copy_kernel", {"gpu__time_duration.sum": "30"})]))
    launches = read_report(path)
    assert [launch.name for launch in launches] == ["fx_init_kernel", "fx_copy_kernel", "fx_copy_kernel"]
    assert [launch.launch_id for launch in select(launches, "copy", "r")] == ["1", "2"]
    with pytest.raises(KernelPilotError, match="no kernel matches 'gemm'.*fx_copy_kernel"):
        select(launches, "gemm", "r")
    with pytest.raises(KernelPilotError, match="not a valid regular expression"):
        select(launches, "(", "r")


def test_profiler_chatter_before_the_table_is_skipped(write, raw_csv):
    chatter = "==PROF== Connected to process 4242 (/usr/bin/python3)\n==PROF== Disconnected from process 4242\n"
    path = write("stdout.csv", raw_csv({"launch__registers_per_thread": "register/thread"},
                                       [("k", {"launch__registers_per_thread": "40"})], preamble=chatter))
    assert Resolver(read_report(path)[0]).get("registers") == 40


def test_capture_folder_joins_raw_metrics_with_details_rules(write, raw_csv, details_csv):
    write("cap/raw.csv", raw_csv({"launch__waves_per_multiprocessor": ""}, [("k", {"launch__waves_per_multiprocessor": "1.12"})]))
    write("cap/details.csv", details_csv([("k", [("rule", "Occupancy", "AchievedOccupancy", "OPT", "Low.", "local", "12.5")])]))
    launch = read_report(write("cap/.keep", "").parent)[0]
    assert Resolver(launch).get("waves") == pytest.approx(1.12)
    assert launch.rules[0].rule == "AchievedOccupancy"
    assert len(launch.sources) == 2


def test_stall_families_are_read_apart(write, raw_csv):
    path = write("raw.csv", raw_csv(
        {"smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio": "ratio",
         "smsp__average_warps_issue_stalled_selected_per_issue_active.ratio": "ratio",
         "smsp__pcsamp_warps_issue_stalled_barrier": "", "smsp__pcsamp_warps_issue_stalled_barrier_not_issued": "",
         "smsp__pcsamp_warps_issue_stalled_no_instructions": "",
         "smsp__warp_issue_stalled_membar_per_warp_active.pct": "%",
         "pmsampling:smsp__warps_issue_stalled_barrier.avg": "warp"},
        [("k", {"smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio": "12.5",
                "pmsampling:smsp__warps_issue_stalled_barrier.avg": "0.25",
                "smsp__average_warps_issue_stalled_selected_per_issue_active.ratio": "1",
                "smsp__pcsamp_warps_issue_stalled_barrier": "1,500",
                "smsp__pcsamp_warps_issue_stalled_barrier_not_issued": "9",
                "smsp__pcsamp_warps_issue_stalled_no_instructions": "500",
                "smsp__warp_issue_stalled_membar_per_warp_active.pct": "3"})]))
    families = stall_families(read_report(path)[0])
    assert families == {"warp_state": {"long_scoreboard": 12.5, "selected": 1.0},
                        "pc_sampling": {"barrier": 1500.0, "no_instruction": 500.0},
                        "pm_sampling": {"barrier": 0.25}}  # the PM-sampling name wins over its older synonym
    ev = Evidence(read_report(path)[0])
    assert ev.primary_family == "warp_state"
    assert ev.stalls["pc_sampling"][0] == {"reason": "barrier", "value": 1500.0, "share": 0.75}


def test_details_only_export_recovers_stalls_from_rule_messages(write, details_csv):
    message = ("On average, each warp of this workload spends 19.4 cycles being stalled waiting for a scoreboard "
               "dependency on a L1TEX (local, global, surface, texture) operation. This stall type represents "
               "about 64.6% of the total average of 30.0 cycles between issuing two instructions.")
    path = write("details.csv", details_csv([("k", [("rule", "WarpStateStats", "CPIStall", "OPT", message,
                                                        "global", "64.6")])]))
    ev = Evidence(read_report(path)[0])
    assert ev.primary_family == "rule_messages"
    assert ev.top_stall() == {"reason": "long_scoreboard", "value": 19.4, "share": pytest.approx(0.646)}


def test_tail_idle_share_of_a_partial_wave(write, raw_csv):
    path = write("raw.csv", raw_csv({"launch__waves_per_multiprocessor": ""},
                                    [("k", {"launch__waves_per_multiprocessor": "1.25"})]))
    shape = launch_shape(Evidence(read_report(path)[0]))
    assert shape["full_waves"] == 1 and shape["last_wave_fill"] == pytest.approx(0.25)
    assert shape["tail_idle_fraction"] == pytest.approx(0.375)


# ----------------------------------------------------------------------------------------------- bad input

def test_truncated_raw_csv_is_one_clear_error(write, raw_csv):
    full = raw_csv({"gpu__time_duration.sum": "nsecond", "launch__registers_per_thread": ""},
                   [("k", {"gpu__time_duration.sum": "1", "launch__registers_per_thread": "2"})])
    header_only = write("header.csv", full.splitlines(keepends=True)[0])
    with pytest.raises(KernelPilotError, match="truncated raw CSV"):
        read_report(header_only)
    no_rows = write("units.csv", "".join(full.splitlines(keepends=True)[:2]))
    with pytest.raises(KernelPilotError, match="no kernel launch"):
        read_report(no_rows)
    cut = write("cut.csv", full[: full.rindex(",")])
    with pytest.raises(KernelPilotError, match=r"cut.csv:3: truncated row \(12 of 13 columns\)"):
        read_report(cut)


def test_truncated_details_csv(write, details_csv):
    text = details_csv([("k", [(SOL, "Duration", "us", "1.0"), (SOL, "DRAM Throughput", "%", "2.0")])])
    cut = write("details.csv", text[: text.rindex("Throughput") + len("Throughput") + 1])
    with pytest.raises(KernelPilotError, match="details.csv:3: truncated row"):
        read_report(cut)


@pytest.mark.parametrize("content, cause", [
    ("hello, world\n1,2\n", "not an Nsight Compute CSV export"),
    ("", "not an Nsight Compute CSV export"),
])
def test_not_a_report(write, content, cause):
    with pytest.raises(KernelPilotError, match=cause):
        read_report(write("thing.csv", content))


def test_binary_file_is_not_a_csv(write, tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01NVIDIA\x00" * 50)
    with pytest.raises(KernelPilotError, match="binary data"):
        read_report(path)


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(KernelPilotError, match="no such file"):
        read_report(tmp_path / "absent.csv")
    with pytest.raises(KernelPilotError, match="a folder without raw.csv"):
        read_report(tmp_path)


def test_ncu_rep_without_the_module_names_the_fix(tmp_path, monkeypatch):
    report = tmp_path / "report.ncu-rep"
    report.write_bytes(b"\x00not really")
    monkeypatch.setitem(sys.modules, "ncu_report", None)  # as on a machine without the package
    with pytest.raises(KernelPilotError, match="pip install ncu-report"):
        read_report(report)


def test_ncu_rep_that_is_not_a_report(tmp_path):
    pytest.importorskip("ncu_report")
    report = tmp_path / "junk.ncu-rep"
    report.write_bytes(b"definitely not a report\n")
    with pytest.raises(KernelPilotError, match="not a report, or a report without profiled kernels"):
        read_report(report)
