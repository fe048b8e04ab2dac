"""The CPU machine a script ran on, as one line: the first line of a CPU script's committed output.

GPU scripts name their card with kernelpilot.harness.environment.header; the scripts that time host-side work
(hooks, the ncu digest, the knowledge index, candidate wrappers) name the CPU, the interpreter and the libraries
with this one. Standard library only, and torch/triton are imported only when a line is asked for, so a script
that never needs them does not pay for them at import.
"""

from __future__ import annotations

import importlib
import os
import platform
from datetime import date

CPUINFO = "/proc/cpuinfo"
VERSIONED_LIBRARIES = ("torch", "triton")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo where the system has one, else what platform can tell."""
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def library_version(name: str) -> str | None:
    """The version of a library as this interpreter imports it, or None where it is absent or fails to import."""
    try:
        return importlib.import_module(name).__version__
    except Exception:  # a broken install raises anything (RuntimeError, OSError, ...); the line just omits it
        return None


def describe(*details: str) -> str:
    """CPU, cores, OS, Python, torch and triton where importable, any script-specific details, and today's date."""
    parts = [cpu_model(), f"{os.cpu_count() or 'unknown'} cores", platform.system() or "unknown OS",
             f"Python {platform.python_version()}"]
    parts += [f"{name} {version}" for name in VERSIONED_LIBRARIES if (version := library_version(name))]
    return f"{', '.join([*parts, *details])} ({date.today()})"


def header(script: str, *details: str) -> str:
    """The first line of a CPU script's output: which script produced the figures below it, and on what."""
    return f"# {script} on {describe(*details)}"
