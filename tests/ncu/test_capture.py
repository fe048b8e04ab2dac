"""`kernelpilot ncu capture` without a GPU: its command line, its output folder, and its error paths."""

import glob
import os
import stat
from pathlib import Path

import pytest

from kernelpilot.errors import KernelPilotError
from kernelpilot.ncu import capture as cap


def test_recipe_command_line():
    line = cap.build_command("/opt/ncu", "^fx_copy$", ["python3", "bench.py", "--n", "4"], Path("/o/report"),
                             launch_skip=2, available={"SpeedOfLight", "Occupancy", "PmSampling", "SourceCounters"})
    assert line[:9] == ["/opt/ncu", "--set", "full", "--import-source", "yes", "--clock-control", "none",
                        "--force-overwrite", "--section"]
    sections = [line[i + 1] for i, arg in enumerate(line) if arg == "--section"]
    assert sections == ["SpeedOfLight", "Occupancy", "SourceCounters", "PmSampling"]
    assert line[line.index("-k") + 1] == "regex:^fx_copy$"
    assert line[line.index("--launch-skip") + 1] == "2" and line[line.index("--launch-count") + 1] == "1"
    assert line[-6:] == ["-o", "/o/report", "python3", "bench.py", "--n", "4"]


def test_without_a_section_list_every_recipe_section_is_requested_and_pm_sampling_is_not():
    line = cap.build_command("ncu", "k", ["app"], Path("r"), available=None)
    sections = [line[i + 1] for i, arg in enumerate(line) if arg == "--section"]
    assert sections == list(cap.SECTIONS)


def test_recipe_flags_are_the_command_line_between_ncu_and_the_kernel_filter():
    available = {"SpeedOfLight", "PmSampling_WarpStates"}
    line = cap.build_command("ncu", "k", ["app"], Path("r"), section_set="detailed", available=available)
    assert line[1:line.index("-k")] == cap.recipe_flags(available, "detailed")
    assert cap.recipe_flags(available, "detailed")[:2] == ["--set", "detailed"]
    assert "PmSampling_WarpStates" in cap.recipe_flags(available)
    assert not set(cap.OPTIONAL_SECTIONS) & set(cap.recipe_flags(None))


def test_the_fixture_capture_script_takes_its_recipe_from_recipe_flags():
    script = (Path(__file__).resolve().parents[2] / "scripts" / "gpu" / "capture_ncu_fixtures.sh").read_text()
    assert "recipe_flags(listed_sections(" in script
    assert "--clock-control" not in script and "--import-source" not in script, "the ncu flags are copied in shell"


def test_ncu_failure_names_the_cause():
    assert "No kernels were profiled" in cap._ncu_failure("==PROF== Connected\n==WARNING== No kernels were profiled.\n")
    assert cap._ncu_failure("x\n==ERROR== Failed to prepare kernel for profiling\nmore\n") == \
        "==ERROR== Failed to prepare kernel for profiling"


def test_ncu_not_installed(monkeypatch, tmp_path):
    monkeypatch.delenv("KERNELPILOT_NCU", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cap, "NCU_GLOBS", ())
    with pytest.raises(KernelPilotError, match="ncu not found"):
        cap.find_ncu()


def test_ncu_not_installed_through_the_cli(kernelpilot, tmp_path):
    if any(glob.glob(pattern) for pattern in cap.NCU_GLOBS):
        pytest.skip("this machine has Nsight Compute installed")
    code, out, err = kernelpilot("ncu", "capture", "--kernel", "k", "--out", str(tmp_path / "p"), "--", "true",
                                 env={"PATH": str(tmp_path), "KERNELPILOT_NCU": ""})
    assert code == 2 and out == ""
    assert err.strip() == ("kernelpilot: error: ncu not found: install Nsight Compute, put ncu on PATH, "
                           "or set KERNELPILOT_NCU")


def test_configured_ncu_must_be_executable(kernelpilot, tmp_path):
    not_executable = tmp_path / "ncu"
    not_executable.write_text("")
    code, _, err = kernelpilot("ncu", "capture", "--kernel", "k", "--out", str(tmp_path / "p"), "--", "true",
                               env={"KERNELPILOT_NCU": str(not_executable)})
    assert code == 2 and err.count("\n") == 1 and "not an executable file" in err


@pytest.mark.parametrize("args, cause", [
    (["--kernel", "k", "--out", "p"], "nothing to profile"),
    (["--kernel", "(", "--out", "p", "--", "true"], "not a valid regular expression"),
    (["--kernel", "k", "--launch-skip", "-1", "--out", "p", "--", "true"], "--launch-skip must be 0 or more"),
])
def test_bad_capture_arguments(kernelpilot, tmp_path, args, cause):
    code, _, err = kernelpilot("ncu", "capture", *args, cwd=tmp_path)
    assert code == 2 and err.count("\n") == 1 and cause in err and "Traceback" not in err


def _recording_ncu(folder: Path) -> Path:
    """A stand-in `ncu` that only records its argv and says no kernel was profiled.

    Used solely to assert the command line capture builds and its cleanup after a failed capture; it never
    stands in for a profile (the real reports under fixtures/ come from a GPU)."""
    script = folder / "ncu"
    script.write_text("#!/bin/sh\n"
                      f"printf '%s\\n' \"$@\" >> '{folder}/argv.txt'\n"
                      "echo ---- >> '" + str(folder) + "/argv.txt'\n"
                      "case \"$1\" in --list-sections) printf 'Identifier Display\\nSpeedOfLight SOL\\n"
                      "Occupancy Occ\\nPmSampling PM\\n'; exit 0;; esac\n"
                      "echo '==PROF== Connected to process 1'\n"
                      "echo '==WARNING== No kernels were profiled.'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_capture_command_line_and_no_half_written_folder(kernelpilot, tmp_path):
    fake = _recording_ncu(tmp_path)
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "task.yaml").write_text("name: t\n")
    code, out, err = kernelpilot("ncu", "capture", "--kernel", "^my_kernel$", "--launch-skip", "3", "--",
                                 "python3", "bench.py", env={"KERNELPILOT_NCU": str(fake)}, cwd=tmp_path / "task")
    assert code == 2 and out == ""
    assert err.strip() == ("kernelpilot: error: ncu wrote no report (exit 0): no kernel launch matched the --kernel "
                           "regex (==WARNING== No kernels were profiled)")
    calls = [call.strip().splitlines() for call in (tmp_path / "argv.txt").read_text().split("----") if call.strip()]
    assert calls[0] == ["--list-sections"]
    profile = calls[1]
    assert [profile[i + 1] for i, arg in enumerate(profile) if arg == "--section"] == [
        "SpeedOfLight", "Occupancy", "PmSampling"]
    assert profile[profile.index("-k") + 1] == "regex:^my_kernel$"
    assert profile[profile.index("--launch-skip") + 1] == "3"
    output_stem = Path(profile[profile.index("-o") + 1])
    assert output_stem.parent.parent == tmp_path / "task" / "profile"  # a staging folder beside profile/v1
    assert profile[-2:] == ["python3", "bench.py"]
    assert os.listdir(tmp_path / "task" / "profile") == []  # nothing half-written is left behind


def test_default_output_folder_is_the_tasks_next_profile_version(tmp_path):
    task = tmp_path / "task"
    (task / "profile" / "v1").mkdir(parents=True)
    (task / "profile" / "v7").mkdir()
    (task / "task.yaml").write_text("name: t\n")
    (task / "candidates").mkdir()
    assert cap.default_out_dir(task / "candidates", None) == task / "profile" / "v8"
    assert cap.default_out_dir(task, "baseline") == task / "profile" / "baseline"
    with pytest.raises(KernelPilotError, match="use letters"):
        cap.default_out_dir(task, "../escape")
    with pytest.raises(KernelPilotError, match="not inside a task folder"):
        cap.default_out_dir(tmp_path, None)
