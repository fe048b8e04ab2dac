"""`kernelpilot ncu capture`: run Nsight Compute with the profiling recipe and export what the digest reads.

The recipe: the full section set, source import, the sections the diagnosis leans on (named explicitly so a
trimmed default set cannot drop them), PM sampling where this ncu lists it, clocks left as the card runs them
(`--clock-control none`), the kernel chosen by name so that the target and not an input generator is profiled,
and warm-up launches skipped. Everything is written to a temporary folder first and moved into place only when
the report and both exports exist, so a failed capture never leaves a half-filled profile folder.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.fsutil import atomic_write_text
from kernelpilot.ncu.report import DETAILS_NAME, RAW_NAME, REPORT_NAME, read_details_csv, read_raw_csv

SECTIONS = ("SpeedOfLight", "ComputeWorkloadAnalysis", "SchedulerStats", "WarpStateStats", "Occupancy",
            "LaunchStats", "MemoryWorkloadAnalysis", "InstructionStats", "SourceCounters")
OPTIONAL_SECTIONS = ("PmSampling", "PmSampling_WarpStates")
NCU_GLOBS = ("/opt/nvidia/nsight-compute/*/ncu", "/usr/local/cuda/bin/ncu", "/usr/local/cuda/nsight-compute*/ncu")
PROFILE_TIMEOUT_S = 1800
EXPORT_TIMEOUT_S = 300


@dataclass
class CaptureResult:
    out_dir: Path
    report: Path
    raw_csv: Path
    details_csv: Path
    command: list[str]
    kernels: list[str]


def find_ncu() -> str:
    """ncu from $KERNELPILOT_NCU, then PATH, then the usual install folders (newest version first)."""
    configured = os.environ.get("KERNELPILOT_NCU")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise KernelPilotError(f"KERNELPILOT_NCU={configured}: not an executable file")
        return configured
    found = shutil.which("ncu")
    if found:
        return found
    for pattern in NCU_GLOBS:
        candidates = sorted(glob.glob(pattern), key=_version_key, reverse=True)
        for candidate in candidates:
            if os.access(candidate, os.X_OK):
                return candidate
    raise KernelPilotError("ncu not found: install Nsight Compute, put ncu on PATH, or set KERNELPILOT_NCU")


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path))


def listed_sections(ncu: str) -> set[str] | None:
    """Section identifiers this ncu knows, or None when it cannot say (then every requested section is kept)."""
    try:
        listing = subprocess.run([ncu, "--list-sections"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listing.returncode != 0:
        return None
    names = set(re.findall(r"^\s*([A-Za-z][A-Za-z0-9_]+)\b", listing.stdout, re.MULTILINE))
    return names or None


def recipe_flags(available: set[str] | None, section_set: str = "full") -> list[str]:
    """The recipe's ncu flags, less the kernel, launch and output ones; scripts/gpu/capture_ncu_fixtures.sh prints
    them from here too. `available` (from --list-sections) trims sections ncu lacks; without a list every recipe
    section is kept and the optional ones are left out, as ncu aborts on a section it does not know."""
    sections = [s for s in SECTIONS if available is None or s in available]
    sections += [s for s in OPTIONAL_SECTIONS if available is not None and s in available]
    flags = ["--set", section_set, "--import-source", "yes", "--clock-control", "none", "--force-overwrite"]
    for section in sections:
        flags += ["--section", section]
    return flags


def build_command(ncu: str, kernel: str, command: list[str], output_stem: Path, launch_skip: int = 0,
                  section_set: str = "full", available: set[str] | None = None) -> list[str]:
    """The ncu command line of the recipe, profiling one launch of `kernel` after `launch_skip` others."""
    return [ncu, *recipe_flags(available, section_set), "-k", f"regex:{kernel}", "--launch-skip", str(launch_skip),
            "--launch-count", "1", "-o", str(output_stem), *command]


def _ncu_failure(output: str) -> str:
    """The line of ncu's output that names why nothing was captured."""
    if "No kernels were profiled" in output:
        return "no kernel launch matched the --kernel regex (==WARNING== No kernels were profiled)"
    errors = [line.strip() for line in output.splitlines() if "==ERROR==" in line]
    if errors:
        return errors[-1]
    tail = [line.strip() for line in output.splitlines() if line.strip()]
    return tail[-1] if tail else "no output"


def _export(ncu: str, report: Path, page_args: list[str], target: Path) -> None:
    try:
        done = subprocess.run([ncu, "-i", str(report), *page_args], capture_output=True, text=True,
                              timeout=EXPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise KernelPilotError(f"ncu export of {report.name} ({' '.join(page_args)}) timed out") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise KernelPilotError(f"ncu export {' '.join(page_args)} failed: {_ncu_failure(done.stdout + done.stderr)}")
    atomic_write_text(target, done.stdout)


def capture(kernel: str, command: list[str], out_dir: Path, launch_skip: int = 0,
            section_set: str = "full") -> CaptureResult:
    if not command:
        raise KernelPilotError("nothing to profile: give the command after `--`")
    try:
        re.compile(kernel)
    except re.error as exc:
        raise KernelPilotError(f"--kernel {kernel!r}: not a valid regular expression ({exc})") from None
    ncu = find_ncu()
    available = listed_sections(ncu)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.capture.", dir=out_dir.parent))
    try:
        line = build_command(ncu, kernel, command, staging / "report", launch_skip, section_set, available)
        try:
            run = subprocess.run(line, capture_output=True, text=True, timeout=PROFILE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise KernelPilotError(f"ncu did not finish within {PROFILE_TIMEOUT_S} s") from None
        except OSError as exc:
            raise KernelPilotError(f"could not run {ncu}: {exc.strerror}") from None
        report = staging / REPORT_NAME
        if not report.is_file():
            raise KernelPilotError(f"ncu wrote no report (exit {run.returncode}): {_ncu_failure(run.stdout + run.stderr)}")
        atomic_write_text(staging / "ncu_output.txt", run.stdout + run.stderr)
        _export(ncu, report, ["--page", "raw", "--csv", "--print-units", "base"], staging / RAW_NAME)
        _export(ncu, report, ["--page", "details", "--csv"], staging / DETAILS_NAME)
        kernels = [launch.name for launch in read_raw_csv(staging / RAW_NAME)]
        read_details_csv(staging / DETAILS_NAME)  # refuse an export the digest could not read
        _move_into(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    as_run = [str(out_dir / "report") if arg == str(staging / "report") else arg for arg in line]
    return CaptureResult(out_dir, out_dir / REPORT_NAME, out_dir / RAW_NAME, out_dir / DETAILS_NAME, as_run, kernels)


def _move_into(staging: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():
        os.replace(item, out_dir / item.name)


# ----------------------------------------------------------------------------------------------- default folder

def task_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding a task.yaml."""
    for folder in (start, *start.parents):
        if (folder / "task.yaml").is_file():
            return folder
    return None


def default_out_dir(start: Path, version: str | None) -> Path:
    root = task_root(start)
    if root is None:
        raise KernelPilotError(f"{start}: not inside a task folder (no task.yaml here or above); pass --out DIR")
    profile = root / "profile"
    if version:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", version):
            raise KernelPilotError(f"--version {version!r}: use letters, digits, '.', '_' or '-'")
        return profile / version
    taken = [int(m.group(1)) for p in profile.glob("v*") if (m := re.fullmatch(r"v(\d+)", p.name))]
    return profile / f"v{max(taken, default=0) + 1}"
