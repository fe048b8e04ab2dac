"""The claims check: every speedup, bandwidth, or fraction of the copy or compute ceiling a round summary prints
must be backed, within the figure's printed rounding, by a benchmark row that carries its environment (or by the
performance map's summary geomeans)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from kernelpilot.errors import KernelPilotError
from kernelpilot.harness.environment import PROVENANCE_COLUMNS
from kernelpilot.harness.ledgers import read_results

# claim kind -> the results.csv columns that can back it
COLUMNS = {
    "speedup": ("speedup_device", "speedup_host", "speedup_dobench"),
    "bandwidth": ("gbps",),
    "copy fraction": ("copy_fraction",),
    "compute fraction": ("compute_fraction",),
}
GEOMEANS = ("geomean_speedup_device", "geomean_speedup_host", "geomean_speedup_dobench")

NUMBER = r"(?<![\w.])(\d+(?:\.\d+)?)"
PERCENT_OF = NUMBER + r"\s*%\s+of\s+(?:the\s+)?(?:measured\s+)?"
BOUND = r"(?:ceiling|roofline|limit|peak)\b"
COPY_WORDS = r"(?:(?:copy|memcpy)[\s-](?:bandwidth\s+)?|bandwidth\s+)"
# An unqualified ceiling, roofline or limit is the copy ceiling (the one every task is read against); a bare
# "peak" is the compute peak, as in "60% of peak", unless it says "peak bandwidth".
PATTERNS = (
    ("speedup", re.compile(NUMBER + r"\s?[x\u00d7](?![\w\u00d7])")),
    ("bandwidth", re.compile(NUMBER + r"\s*([TG])B/s\b")),
    ("copy fraction", re.compile(PERCENT_OF + r"(?:" + COPY_WORDS + BOUND
                                 + r"|(?:ceiling|roofline|limit)\b|peak\s+bandwidth\b)", re.I)),
    ("compute fraction", re.compile(PERCENT_OF + r"(?:(?:compute|matmul)[\s-]" + BOUND
                                    + r"|peak\b(?!\s+bandwidth))", re.I)),
)
FRACTION_KINDS = ("copy fraction", "compute fraction")


@dataclass(frozen=True)
class Claim:
    kind: str
    text: str  # as printed, e.g. "1.8x"
    line: int
    value: float  # in the unit of the backing column: ratio, GB/s, or fraction 0..1
    tolerance: float  # half a unit in the last printed digit, in the same unit


@dataclass(frozen=True)
class Evidence:
    value: float
    where: str


def extract_claims(text: str) -> list[Claim]:
    claims = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS:
            for match in pattern.finditer(line):
                printed = match.group(1)
                decimals = len(printed.partition(".")[2])
                value, tolerance = float(printed), 0.5 * 10 ** -decimals
                scale = _scale(kind, match)
                claims.append(Claim(kind, match.group(0).strip(), number, value * scale, tolerance * scale))
    return claims


def _scale(kind: str, match: re.Match) -> float:
    """The factor from the printed figure to its backing column's unit: TB/s to GB/s, percent to a fraction."""
    if kind == "bandwidth" and match.group(2) == "T":
        return 1000.0
    return 0.01 if kind in FRACTION_KINDS else 1.0


def collect_evidence(task_dir: Path) -> tuple[dict[str, list[Evidence]], list[str]]:
    """Backing figures per claim kind, and the problems met reading them (a wrong header, a bad number)."""
    evidence: dict[str, list[Evidence]] = {kind: [] for kind in COLUMNS}
    problems: list[str] = []
    try:
        rows = read_results(task_dir)
    except KernelPilotError as exc:
        problems.append(str(exc))
        rows = []
    for line, row in enumerate(rows, start=2):
        if any(not (row.get(column) or "").strip() for column in PROVENANCE_COLUMNS):
            continue  # a figure without its environment backs nothing
        for kind, columns in COLUMNS.items():
            for column in columns:
                _add(evidence[kind], row.get(column), f"{column}={row.get(column)} "
                     f"(results.csv line {line}: run {row['run_id']}, case {row['case']}, "
                     f"impl {row['impl']}, {row['gpu']})", problems)
    perf_map = task_dir / "benchmarks" / "performance-map.json"
    if perf_map.exists():
        try:
            summary = json.loads(perf_map.read_text(encoding="utf-8")).get("summary") or {}
        except (ValueError, AttributeError):
            problems.append(f"{perf_map}: not a JSON object with a summary")
            summary = {}
        for key in GEOMEANS:
            _add(evidence["speedup"], summary.get(key), f"{key}={summary.get(key)} (performance-map.json summary)",
                 problems)
    return evidence, problems


def _add(bucket: list[Evidence], raw, where: str, problems: list[str]) -> None:
    if raw is None or raw == "":
        return
    try:
        bucket.append(Evidence(float(raw), where))
    except (TypeError, ValueError):
        problems.append(f"not a number: {where}")


def claim_problems(summary: str, task_dir: Path, summary_name: str = "round summary") -> list[str]:
    """One line per claim that no benchmark figure backs, naming the nearest figure there is."""
    claims = extract_claims(summary)
    if not claims:
        return []
    evidence, problems = collect_evidence(task_dir)
    for claim in claims:
        backing = evidence[claim.kind]
        if any(abs(item.value - claim.value) <= claim.tolerance + 1e-9 for item in backing):
            continue
        low, high = claim.value - claim.tolerance, claim.value + claim.tolerance
        message = (f"{summary_name} line {claim.line} claims \"{claim.text}\" (a {claim.kind} of "
                   f"{_fmt(low)}..{_fmt(high)}{_unit(claim.kind)}) ")
        if backing:
            nearest = min(backing, key=lambda item: abs(item.value - claim.value))
            message += f"but the nearest benchmark figure is {nearest.where}"
        else:
            message += (f"but {task_dir}/benchmarks has no {claim.kind} figure with its environment "
                        f"(columns {', '.join(COLUMNS[claim.kind])})")
        problems.append(message)
    return problems


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _unit(kind: str) -> str:
    return {"bandwidth": " GB/s", "copy fraction": " of the copy ceiling",
            "compute fraction": " of the compute ceiling", "speedup": "x"}[kind]
