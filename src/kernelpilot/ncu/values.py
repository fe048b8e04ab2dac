"""Numbers and units as Nsight Compute prints them, brought to one base unit per dimension.

Exports scale values unless `--print-units base` was asked for (`us` vs `ns`, `Mbyte` vs `byte`, `Tbyte/s`),
and the CLI's number format may group thousands ("92,265"). Base units here: nanoseconds for time, bytes for
data, bytes per second for bandwidth, hertz for frequency, percent for percentages; SI prefixes are decimal,
as ncu uses them (34.816 Kbyte/block is 34816 bytes).
"""

from __future__ import annotations

import re

_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_PLAIN = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")

_PREFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}

# Time units, in nanoseconds per unit.
_TIME = {"ns": 1.0, "nsecond": 1.0, "us": 1e3, "usecond": 1e3, "ms": 1e6, "msecond": 1e6, "s": 1e9, "second": 1e9}

# Counted things that may carry an SI prefix (Kbyte, Msector, Ginst, ...).
_COUNTED = ("byte", "inst", "cycle", "sector", "request", "warp", "thread", "block", "wavefront", "conflict",
            "transaction", "instruction", "register", "sample", "flop", "pass")

_UNIT = re.compile(r"^(?P<prefix>[KMGTP]?)(?P<word>[a-z]+)$")


def parse_number(text: str | None) -> float | None:
    """A float from an exported cell, or None for an empty / non-numeric one ("n/a", "(128, 1, 1)")."""
    if text is None:
        return None
    cell = text.strip().replace("\u00a0", "").replace(" ", "")
    if not cell:
        return None
    if _GROUPED.match(cell):
        cell = cell.replace(",", "")
    elif _DECIMAL_COMMA.match(cell):
        cell = cell.replace(",", ".")
    if not _PLAIN.match(cell):
        return None
    return float(cell)


def _scale_term(term: str) -> tuple[float, str] | None:
    """(factor to the base unit, base unit) for one unit word such as `Kbyte`, `usecond`, `Ghz`."""
    if term in _TIME:
        return _TIME[term], "ns"
    if term.lower().endswith("hz"):
        prefix = term[:-2]
        if prefix.upper() in _PREFIX:
            return _PREFIX[prefix.upper()], "hz"
        return None
    match = _UNIT.match(term)
    if match and (match["word"] in _COUNTED or match["word"].rstrip("s") in _COUNTED):
        return _PREFIX[match["prefix"]], match["word"]
    return None


def to_base(value: float, unit: str | None) -> tuple[float, str]:
    """Scale `value` in `unit` to its base unit: (1.5, "us") -> (1500.0, "ns"); (2, "Tbyte/s") -> (2e12, "byte/s").

    Units this module does not know are returned unchanged, so nothing is ever silently rescaled by a guess.
    """
    unit = (unit or "").strip()
    if not unit or unit == "%":
        return value, unit
    numerator, slash, denominator = unit.partition("/")
    head = _scale_term(numerator)
    if head is None:
        return value, unit
    factor, base = head
    if not slash:
        return value * factor, base
    if denominator in _TIME:  # a rate: per second as the base
        return value * factor * 1e9 / _TIME[denominator], f"{base}/s"
    return value * factor, f"{base}/{denominator}"
