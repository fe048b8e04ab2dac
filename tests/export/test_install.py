"""install(), status() and uninstall() against SGLang's real modules, loaded by path from the 0.5.12 and current wheels.

SGLang's norm_infer modules query device properties at import, so on a CPU they cannot load; triton_one_pass_rms_norm
loads in both releases, and its swapped function runs our Triton kernel under the interpreter on the CPU.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import kda_kernels
from kernelpilot.errors import KernelPilotError
from kernelpilot.export.sglang_patch import exported_layouts
from kernelpilot.harness.spec import load_task

ONE_PASS = "triton_one_pass_rms_norm"


def row(report: dict, function: str) -> dict:
    return next(r for r in report["functions"] if r["function"].endswith(f".norm_infer.{function}"))


def swapped_target(report: dict, function: str) -> dict:
    return next(t for t in row(report, function)["targets"] if t["state"] == "swapped")


@pytest.fixture(params=exported_layouts())
def release(request, sglang_releases) -> str:
    """Each SGLang release the committed export names a layout for (0.5.12 and 0.5.23)."""
    return request.param


def test_install_swaps_loaded_modules_and_by_name_importers_then_uninstall_restores(release, sglang_function,
                                                                                    by_name_importer, family):
    module, original = sglang_function(release, ONE_PASS)
    importer = by_name_importer("kda_test_importer_before", module.__name__, ONE_PASS)
    held_elsewhere = {"kept": original}  # a reference no module global holds: status must own up to it

    report = kda_kernels.install()

    ours = getattr(family, ONE_PASS)
    assert getattr(module, ONE_PASS) is ours and importer.triton_one_pass_rms_norm is ours
    assert report["sglang"] == release
    target = swapped_target(report, ONE_PASS)
    assert target["layout"] == release and target["target"] == f"{module.__name__}:{ONE_PASS}"
    assert "kda_test_importer_before.triton_one_pass_rms_norm" in target["rebound_importers"]
    assert target["not_rebound"] == ["dict"]
    stamps = row(report, ONE_PASS)["stamps"]
    assert stamps[f"KDA_OPTIMIZED_{ONE_PASS}"] is True and stamps[f"KDA_ARCHES_{ONE_PASS}"] == ("h200",)
    assert stamps[f"KDA_SPEEDUP_{ONE_PASS}"]["h200"]["device"] == "NVIDIA H200"

    report = kda_kernels.uninstall()
    assert getattr(module, ONE_PASS) is original and importer.triton_one_pass_rms_norm is original
    assert held_elsewhere["kept"] is original
    assert row(report, ONE_PASS)["state"] == "not installed" and not report["installed"]


def test_a_module_imported_after_install_is_swapped_on_import(release, sglang_function, by_name_importer, family):
    report = kda_kernels.install()
    assert row(report, ONE_PASS)["state"] == "pending import"

    module, ours = sglang_function(release, ONE_PASS)
    assert ours is getattr(family, ONE_PASS)
    later = by_name_importer("kda_test_importer_after", module.__name__, ONE_PASS)
    assert later.triton_one_pass_rms_norm is ours
    assert row(kda_kernels.status(), ONE_PASS)["state"] == "swapped"

    kda_kernels.uninstall()
    original = getattr(module, ONE_PASS)
    assert original is not ours and original.__module__ == module.__name__
    assert later.triton_one_pass_rms_norm is original


def test_install_is_idempotent(release, sglang_function):
    module, original = sglang_function(release, ONE_PASS)
    kda_kernels.install()
    report = kda_kernels.install()
    assert swapped_target(report, ONE_PASS)["rebound_importers"] == []
    kda_kernels.uninstall()
    assert getattr(module, ONE_PASS) is original


def test_a_function_not_optimized_is_left_to_sglang(release, sglang_function, family, monkeypatch):
    module, original = sglang_function(release, ONE_PASS)
    monkeypatch.setattr(family, f"KDA_OPTIMIZED_{ONE_PASS}", False)
    report = kda_kernels.install()
    assert getattr(module, ONE_PASS) is original
    assert row(report, ONE_PASS)["state"] == "not installed" and not row(report, ONE_PASS)["optimized"]
    assert row(report, "norm_infer")["state"] == "pending import"


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU SGLang's norm module imports (test_gpu.py)")
def test_a_target_that_fails_to_import_fails_as_it_would_without_us(release, sglang_function):
    kda_kernels.install()
    with pytest.raises(KernelPilotError, match="get_device_properties|cannot import"):
        sglang_function(release, "norm_infer")
    assert row(kda_kernels.status(), "norm_infer")["state"] == "pending import"


# Triton must be imported with TRITON_INTERPRET=1 for its own @jit helpers (tl.sum) to run under the interpreter, so
# the call runs in a fresh process.
INTERPRETED_CALL = """
import json, sys, torch
import kda_kernels
from kernelpilot.harness.sglang import load_function
version, module_name, reference_path = sys.argv[1:]
sglang_function = load_function(version, module_name.replace(".", "/") + ".py:triton_one_pass_rms_norm")
kda_kernels.install()
generator = torch.Generator().manual_seed(7)
x = torch.randn(2, 24, 128, generator=generator).to(torch.bfloat16)
w = torch.randn(128, generator=generator).to(torch.bfloat16)
y = sys.modules[module_name].triton_one_pass_rms_norm(x, w, 1e-6)
namespace = {}
exec(open(reference_path).read(), namespace)
expected = namespace["triton_one_pass_rms_norm"](x.double(), w.double(), 1e-6)
routes = next(r["routes"] for r in kda_kernels.status()["functions"] if r["function"].endswith(".triton_one_pass_rms_norm"))
print(json.dumps({"error": (y.double() - expected).abs().max().item(), "dtype": str(y.dtype),
                  "shape": list(y.shape), "routes": routes}))
"""


def test_swapped_function_runs_our_kernel_under_the_interpreter(release, family, norm_task, committed_route):
    module_name = family.FUNCTIONS[ONE_PASS]["targets"][release].partition(":")[0]
    environment = {**os.environ, "TRITON_INTERPRET": "1", "KDA_KERNELS_ARCH": "h200",
                   "PYTHONPATH": os.pathsep.join(p for p in [str(Path(kda_kernels.__file__).parents[1]),
                                                             os.environ.get("PYTHONPATH")] if p)}
    result = subprocess.run([sys.executable, "-c", INTERPRETED_CALL, release, module_name,
                             str(norm_task / "reference.py")], capture_output=True, text=True, env=environment,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["dtype"] == "torch.bfloat16" and outcome["shape"] == [2, 24, 128]
    assert outcome["error"] <= load_task(norm_task).bounds("bfloat16")["abs"], outcome
    shaped_like_the_call = (torch.empty(2, 24, 128, dtype=torch.bfloat16), torch.empty(128, dtype=torch.bfloat16), 1e-6)
    assert outcome["routes"] == {committed_route("h200", ONE_PASS, shaped_like_the_call): 1}
