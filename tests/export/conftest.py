"""Fixtures for the export tests: a committed scratch copy of the norm task, and SGLang releases from their wheels."""

import csv
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kda_kernels
from kernelpilot.cli import main
from kernelpilot.errors import KernelPilotError
from kernelpilot.export.sglang_patch import exported_layouts
from kernelpilot.harness import sglang

NORM_TASK = Path(__file__).resolve().parents[2] / "kernels" / "h200_diffusion_norm_infer__multi_shape"
FAMILY = "kda_kernels.diffusion.norm_infer"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


def commit_all(root: Path, message: str = "task") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


@pytest.fixture
def commit():
    """Commits everything in the given repository folder."""
    return commit_all


@pytest.fixture
def committed_task(tmp_path) -> Path:
    """The real norm task, ledgers and all, as the only content of a fresh git repository."""
    root = tmp_path / "repo" / NORM_TASK.name
    shutil.copytree(NORM_TASK, root, ignore=shutil.ignore_patterns("__pycache__"))
    git(root.parent, "init", "-q")
    commit_all(root.parent)
    return root


@pytest.fixture
def measured_twin(committed_task) -> Path:
    """The norm task's b200 twin, made by `kernelpilot task twin`, holding the sibling's ledgers and benchmarks as if
    they had been measured on a B200: its H200 timings and checks relabelled, those of other GPUs (an H100 run of
    the H200 task) left out, committed beside it."""
    assert main(["task", "twin", str(committed_task), "--arch", "b200", "--json"]) == 0
    twin = committed_task.parent / committed_task.name.replace("h200_", "b200_", 1)
    for folder in ("ledgers", "benchmarks"):
        shutil.rmtree(twin / folder)
        shutil.copytree(committed_task / folder, twin / folder)
    _relabel_gpu(twin / "benchmarks" / "results.csv", twin / "ledgers" / "attempts.jsonl")
    commit_all(committed_task.parent, "a measured b200 twin")
    return twin


def _relabel_gpu(results: Path, attempts: Path, measured="NVIDIA H200", as_if="NVIDIA B200") -> None:
    with results.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with results.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "gpu": as_if} for row in rows if row["gpu"] == measured)
    records = [json.loads(line) for line in attempts.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = []
    for record in records:
        gpu = (record.get("env") or {}).get("gpu")
        if gpu in (measured, "cpu", None):
            kept.append({**record, "env": {**record["env"], "gpu": as_if}} if gpu == measured else record)
    attempts.write_text("".join(json.dumps(record) + "\n" for record in kept), encoding="utf-8")


@pytest.fixture(scope="session")
def sglang_releases() -> list[str]:
    """Every SGLang release the committed export targets, its wheel fetched once into the cache. Offline, the tests
    that need them skip, except in CI (CI set), where a missing wheel is a failure, never a silent skip."""
    versions = exported_layouts()
    try:
        sglang.fetch_wheels(versions)
    except KernelPilotError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the SGLang wheels (KERNELPILOT_WHEELS or network): {exc}")
        pytest.skip(f"SGLang wheels neither cached nor downloadable: {exc}")
    return versions


@pytest.fixture
def fresh_process_state():
    """No SGLang loaded and nothing installed, before and after the test."""
    kda_kernels.uninstall()
    sglang.unload()
    yield
    kda_kernels.uninstall()
    sglang.unload()
    for name in [n for n in sys.modules if n.startswith("kda_test_importer")]:
        del sys.modules[name]


@pytest.fixture
def family():
    """The committed export's norm_infer family module."""
    return importlib.import_module(FAMILY)


@pytest.fixture
def norm_task() -> Path:
    return NORM_TASK


@pytest.fixture
def committed_route(family):
    """The route the committed export names for a call on an arch: its bucket's winner, or SGLang's own function."""
    def route(arch: str | None, function: str, arguments: tuple) -> str:
        if arch not in family.FAMILY.arches:
            return "sglang"
        dispatcher = importlib.import_module(f"{family.FAMILY.package}._impls.{arch}.dispatch")
        values = dict(zip(family.FAMILY.functions[function]["parameters"], arguments))
        kernel, name = dispatcher.implementation(function, values)
        return f"{arch}:{name}" if kernel is not None else "sglang"
    return route


@pytest.fixture
def sglang_function(fresh_process_state, family):
    """(version, function) -> SGLang's own module object, loaded by path from the release's wheel, and the function."""
    def load(version: str, function: str):
        module_name, _, attribute = family.FUNCTIONS[function]["targets"][version].partition(":")
        loaded = sglang.load_function(version, module_name.replace(".", "/") + ".py:" + attribute)
        return sys.modules[module_name], loaded.function

    return load


@pytest.fixture
def by_name_importer(fresh_process_state):
    """(name, module, attribute) -> a call site module that did `from <module> import <attribute>`, as SGLang's do."""
    def make(name: str, module_name: str, attribute: str):
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None))
        sys.modules[name] = module
        exec(f"from {module_name} import {attribute}", module.__dict__)
        return module

    return make
