"""Reading Nsight Compute exports into one shape: a list of profiled kernel launches.

Three inputs, as real tools produce them:
- the raw page CSV (`ncu -i R --page raw --csv [--print-units base]`): a header row of metric names, a row of
  units, then one row per launch;
- the details page CSV (`--page details --csv`): one row per (launch, section, metric) and one per rule result.
  Its rows are ragged: metric rows name the section by its display name ("GPU Speed Of Light Throughput") and
  may stop after "Metric Value"; rule rows name the section by its identifier ("SpeedOfLight") and carry the
  rule name, type, message and estimated speedup;
- a `.ncu-rep` report, through NVIDIA's `ncu_report` module when it can be imported.
A capture folder holding raw.csv and details.csv (what `kernelpilot ncu capture` writes) reads as both, joined
by launch ID, so metrics come from the raw page and rule findings from the details page.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.ncu.values import parse_number, to_base

REPORT_SUFFIXES = (".ncu-rep", ".ncu-repz")
RAW_NAME = "raw.csv"
DETAILS_NAME = "details.csv"
REPORT_NAME = "report.ncu-rep"

# Columns every export repeats per launch; everything else in a raw header is a metric.
_LAUNCH_COLUMNS = {"ID", "Process ID", "Process Name", "Host Name", "Kernel Name", "Context", "Stream",
                   "Block Size", "Grid Size", "Device", "CC", "Kernel Time", "Function Name", "Demangled Name"}
_DETAILS_REQUIRED = ("ID", "Kernel Name", "Section Name", "Metric Name", "Metric Unit", "Metric Value")


@dataclass
class Measurement:
    value: float | str  # a number in its base unit, or text ("PolicySpread", "(128, 1, 1)")
    unit: str


@dataclass
class RuleFinding:
    rule: str
    section: str
    kind: str  # OPT, WRN, INF, ERR (ncu's message type)
    message: str
    speedup_pct: float | None
    speedup_kind: str  # "global" (whole kernel) or "local" (one part of it); "" when ncu gave none


@dataclass
class KernelLaunch:
    launch_id: str
    name: str
    block: str = ""
    grid: str = ""
    device: str = ""
    compute_capability: str = ""
    metrics: dict[str, Measurement] = field(default_factory=dict)  # raw metric name -> value
    details: dict[tuple[str, str], Measurement] = field(default_factory=dict)  # (section, label) -> value
    rules: list[RuleFinding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # which exports fed this launch


def _measure(text: str, unit: str) -> Measurement:
    number = parse_number(text)
    if number is None:
        return Measurement(text.strip(), unit.strip())
    value, base = to_base(number, unit)
    return Measurement(value, base)


# ----------------------------------------------------------------------------------------------- CSV

def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise KernelPilotError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise KernelPilotError(f"{path}: is a folder without raw.csv, details.csv or report.ncu-rep") from None
    if "\x00" in text[:4096]:
        raise KernelPilotError(f"{path}: binary data, not an Nsight Compute CSV export (a .ncu-rep needs that suffix)")
    lines = text.splitlines()
    if lines and lines[-1].count('"') % 2 == 1:
        raise KernelPilotError(f"{path}:{len(lines)}: truncated export (the file ends inside a quoted field)")
    # ncu's stdout may precede the table with "==PROF==" lines or the application's own output.
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"') or line.startswith("ID,")), None)
    if start is None:
        raise KernelPilotError(f"{path}: not an Nsight Compute CSV export (no header row starting with \"ID\")")
    try:
        return list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    except csv.Error as exc:
        raise KernelPilotError(f"{path}: malformed CSV ({exc})") from None


def _is_details(header: list[str]) -> bool:
    return "Section Name" in header and "Metric Name" in header and "Metric Value" in header


def _launch_fields(launch: KernelLaunch, row: dict[str, str]) -> None:
    launch.block = launch.block or row.get("Block Size", "")
    launch.grid = launch.grid or row.get("Grid Size", "")
    launch.device = launch.device or row.get("Device", "")
    launch.compute_capability = launch.compute_capability or row.get("CC", "")


def _kernel_name(row: dict[str, str]) -> str:
    return row.get("Kernel Name") or row.get("Function Name") or row.get("Demangled Name") or "?"


def read_raw_csv(path: Path, rows: list[list[str]] | None = None) -> list[KernelLaunch]:
    rows = _csv_rows(path) if rows is None else rows
    header = rows[0]
    if len(rows) < 2:
        raise KernelPilotError(f"{path}: truncated raw CSV (a header but no units row)")
    units = rows[1]
    data = [row for row in rows[2:] if any(cell.strip() for cell in row)]
    if not data:
        raise KernelPilotError(f"{path}: the export lists no kernel launch (header and units only)")
    launches = []
    for number, row in enumerate(data, start=3):
        if len(row) < len(header):
            raise KernelPilotError(f"{path}:{number}: truncated row ({len(row)} of {len(header)} columns)")
        cells = dict(zip(header, row))
        launch = KernelLaunch(launch_id=cells.get("ID", str(number - 3)), name=_kernel_name(cells),
                              sources=[str(path)])
        _launch_fields(launch, cells)
        for column, unit, cell in zip(header, units, row):
            if column not in _LAUNCH_COLUMNS and cell.strip() != "":
                launch.metrics[column] = _measure(cell, unit)
        launches.append(launch)
    return launches


def read_details_csv(path: Path, rows: list[list[str]] | None = None) -> list[KernelLaunch]:
    rows = _csv_rows(path) if rows is None else rows
    header = rows[0]
    missing = [name for name in _DETAILS_REQUIRED if name not in header]
    if missing:
        raise KernelPilotError(f"{path}: not a details-page export (no {', '.join(missing)} column)")
    index = {name: header.index(name) for name in header}
    value_at = index["Metric Value"]
    launches: dict[str, KernelLaunch] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: row[i] for name, i in index.items() if i < len(row)}
        rule_name = cells.get("Rule Name", "").strip()
        if not rule_name and len(row) <= value_at:
            raise KernelPilotError(f"{path}:{number}: truncated row ({len(row)} of {len(header)} columns)")
        launch_id = cells["ID"]
        launch = launches.get(launch_id)
        if launch is None:
            launch = launches[launch_id] = KernelLaunch(launch_id=launch_id, name=_kernel_name(cells),
                                                        sources=[str(path)])
            _launch_fields(launch, cells)
        section = cells.get("Section Name", "").strip()
        if rule_name:
            launch.rules.append(RuleFinding(
                rule=rule_name, section=section, kind=cells.get("Rule Type", "").strip(),
                message=cells.get("Rule Description", "").strip(),
                speedup_pct=parse_number(cells.get("Estimated Speedup", "")),
                speedup_kind=cells.get("Estimated Speedup Type", "").strip().lower()))
        elif cells.get("Metric Name", "").strip():
            launch.details[(section, cells["Metric Name"].strip())] = _measure(cells["Metric Value"],
                                                                              cells.get("Metric Unit", ""))
    if not launches:
        raise KernelPilotError(f"{path}: the export lists no kernel launch")
    return list(launches.values())


def read_csv(path: Path) -> list[KernelLaunch]:
    rows = _csv_rows(path)
    if _is_details(rows[0]):
        return read_details_csv(path, rows)
    return read_raw_csv(path, rows)


# ----------------------------------------------------------------------------------------------- .ncu-rep

_MSG_KIND = {"MsgType_OPTIMIZATION": "OPT", "MsgType_WARNING": "WRN", "MsgType_OK": "INF", "MsgType_ERR": "ERR"}


# Where an Nsight Compute install keeps its copy of the module, when the pip package is absent.
EXTRAS_GLOBS = ("/opt/nvidia/nsight-compute/*/extras/python", "/usr/local/cuda/nsight-compute*/extras/python",
                "/usr/local/cuda*/nsight-compute*/extras/python")


def _import_ncu_report():
    try:
        import ncu_report  # NVIDIA's module: the `ncu-report` package ...
        return ncu_report
    except ImportError:
        pass
    import glob
    import importlib
    import shutil
    import sys

    ncu = shutil.which("ncu")
    candidates = [str(Path(ncu).resolve().parent / "extras" / "python")] if ncu else []
    candidates += sorted((path for pattern in EXTRAS_GLOBS for path in glob.glob(pattern)), reverse=True)
    for folder in candidates:
        if (Path(folder) / "ncu_report.py").is_file():
            sys.path.insert(0, folder)  # ... or the copy in ncu's extras/python
            try:
                return importlib.import_module("ncu_report")
            except ImportError:
                sys.path.remove(folder)
    raise KernelPilotError("reading a .ncu-rep needs NVIDIA's ncu_report module (pip install ncu-report, or "
                           "add <ncu>/extras/python to PYTHONPATH); or digest the raw/details CSV export")


def _enum_name(module, prefix: str, value) -> str:
    for name in dir(module):
        if name.startswith(prefix) and getattr(module, name) == value:
            return name
    return ""


def read_ncu_rep(path: Path) -> list[KernelLaunch]:
    ncu_report = _import_ncu_report()
    if not path.is_file():
        raise KernelPilotError(f"{path}: no such file")
    try:
        context = ncu_report.load_report(str(path))
    except Exception as exc:  # the module raises several types for unreadable files
        raise KernelPilotError(f"{path}: not a readable Nsight Compute report ({exc})") from None
    launches = []
    for range_index in range(context.num_ranges()):
        profiled_range = context.range_by_idx(range_index)
        for action_index in range(profiled_range.num_actions()):
            action = profiled_range.action_by_idx(action_index)
            launches.append(_launch_from_action(ncu_report, action, len(launches), path))
    if not launches:
        raise KernelPilotError(f"{path}: not a report, or a report without profiled kernels")
    return launches


def _launch_from_action(ncu_report, action, number: int, path: Path) -> KernelLaunch:
    launch = KernelLaunch(launch_id=str(number), name=action.name(), sources=[str(path)])
    for name in action.metric_names():
        metric = action.metric_by_name(name)
        value = metric.value()
        if value is None:
            continue
        unit = metric.unit() or ""
        launch.metrics[name] = (Measurement(*to_base(float(value), unit)) if isinstance(value, (int, float))
                                else Measurement(str(value), unit))
    for key, column in (("launch__block_size", "block"), ("launch__grid_size", "grid")):
        if key in launch.metrics:
            setattr(launch, column, str(int(launch.metrics[key].value)))
    for rule in action.rule_results_as_dicts():
        message = rule.get("rule_message") or {}
        speedup = rule.get("speedup_estimation") or {}
        speedup_kind = _enum_name(ncu_report, "SpeedupType_", speedup.get("type")).removeprefix("SpeedupType_")
        launch.rules.append(RuleFinding(
            rule=rule.get("rule_identifier", ""), section=rule.get("section_identifier", ""),
            kind=_MSG_KIND.get(_enum_name(ncu_report, "MsgType_", message.get("type")), ""),
            message=message.get("message", ""), speedup_pct=speedup.get("speedup"),
            speedup_kind=speedup_kind.lower() if speedup_kind not in ("", "UNKNOWN") else ""))
    return launch


# ----------------------------------------------------------------------------------------------- any input

def _join(raw: list[KernelLaunch], details: list[KernelLaunch]) -> list[KernelLaunch]:
    by_id = {launch.launch_id: launch for launch in details}
    for launch in raw:
        extra = by_id.get(launch.launch_id)
        if extra is not None and extra.name == launch.name:
            launch.details.update(extra.details)
            launch.rules.extend(extra.rules)
            launch.sources.extend(extra.sources)
    return raw


def read_report(path: str | Path) -> list[KernelLaunch]:
    """Every profiled launch in a report file or capture folder, in report order."""
    target = Path(path)
    if target.is_dir():
        raw, details, report = target / RAW_NAME, target / DETAILS_NAME, target / REPORT_NAME
        if raw.is_file() and details.is_file():
            return _join(read_raw_csv(raw), read_details_csv(details))
        for candidate in (raw, details, report):
            if candidate.is_file():
                return read_report(candidate)
        raise KernelPilotError(f"{target}: a folder without {RAW_NAME}, {DETAILS_NAME} or {REPORT_NAME}")
    if target.suffix in REPORT_SUFFIXES:
        return read_ncu_rep(target)
    return read_csv(target)


def select(launches: list[KernelLaunch], pattern: str | None, source: str) -> list[KernelLaunch]:
    """The launches whose kernel name matches `pattern` (a regex searched anywhere in the name); all if None."""
    if not pattern:
        return launches
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise KernelPilotError(f"--kernel {pattern!r}: not a valid regular expression ({exc})") from None
    chosen = [launch for launch in launches if regex.search(launch.name)]
    if not chosen:
        names = sorted({launch.name for launch in launches})
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        raise KernelPilotError(f"{source}: no kernel matches {pattern!r} (kernels: {shown})")
    return chosen
