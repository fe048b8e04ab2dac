"""The exported family's arch selection: (10, 0) runs the b200 kernels where a b200 task was promoted, (9, 0) the
h200 ones, any other device SGLang's own function. The device is a hardware fact, so torch's capability query is the
one thing stood in for; the family, its dispatchers and kernels are the ones `kernelpilot task export` writes."""

import importlib
import sys

import pytest
import torch

from kda_kernels._routing import ARCH_OVERRIDE
from kernelpilot.export.package import export_task

PACKAGE = "kda_routing_test"
FAMILY = f"{PACKAGE}.diffusion.norm_infer"
ONE_PASS = "triton_one_pass_rms_norm"


def _forget_package() -> None:
    for loaded in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[loaded]


@pytest.fixture
def export(tmp_path, monkeypatch):
    """(task folders) -> the family module exported from them into a fresh package, imported afresh."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(ARCH_OVERRIDE, raising=False)

    def exported(*tasks):
        for task in tasks:
            export_task(task, tmp_path / PACKAGE)
        _forget_package()
        return importlib.import_module(FAMILY)

    yield exported
    _forget_package()


@pytest.fixture
def on_capability(monkeypatch):
    def set_capability(capability: tuple[int, int]) -> None:
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)

    return set_capability


@pytest.mark.parametrize("capability, arch", [((10, 0), "b200"), ((9, 0), "h200"), ((8, 0), None), ((10, 3), None),
                                              ((12, 0), None)])
def test_the_device_capability_picks_the_arch(committed_task, measured_twin, export, on_capability, capability,
                                              arch):
    family = export(committed_task, measured_twin)
    on_capability(capability)
    assert family.FAMILY.arch_for(torch.device("cuda", 0)) == arch


def test_a_b200_without_a_promoted_b200_task_runs_sglang(committed_task, export, on_capability):
    family = export(committed_task)
    on_capability((10, 0))
    assert family.FAMILY.arches == ("h200",)
    assert family.FAMILY.arch_for(torch.device("cuda", 0)) is None  # not the h200 kernels: they were not timed there


def test_a_cpu_tensor_runs_sglang(committed_task, measured_twin, export):
    family = export(committed_task, measured_twin)
    assert family.FAMILY.arch_for(torch.device("cpu")) is None


@pytest.mark.parametrize("arch", ["b200", "h200"])
def test_each_arch_routes_to_its_own_exported_kernels(committed_task, measured_twin, export, monkeypatch, arch):
    monkeypatch.setenv(ARCH_OVERRIDE, arch)  # read when the family module is imported
    family = export(committed_task, measured_twin)
    x = torch.empty(2, 24, 128, dtype=torch.bfloat16, device="meta")  # a bucket a Triton candidate won
    w = torch.empty(128, dtype=torch.bfloat16, device="meta")
    kernel = family.FAMILY.implementation(ONE_PASS, {"x": x, "w": w, "eps": 1e-6})
    winner = kernel.__module__.rpartition(".")[2]
    assert kernel.__module__ == f"{FAMILY}._impls.{arch}.{winner}" and winner.startswith("triton_")
    assert family.FAMILY.routes(ONE_PASS) == {f"{arch}:{winner}": 1}

